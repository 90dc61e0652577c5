"""``/v1/responses`` in Batch API files: the request line, its builder, and the reader of its reply."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import RESPONSES
from tagging_assets.wire._fields import object_of, text_of
from tagging_assets.wire.lines import Reply
from tagging_assets.wire.schema import tagging_text_format


class ResponsesBody(BaseModel):
    """The response a batch line asks for: the system prompt as ``instructions``, the effort under ``reasoning``,
    the schema under ``text.format``."""

    model: str = Field(min_length=1)
    instructions: str | None = None
    input: list[dict[str, str]] | str = Field(min_length=1)
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    reasoning: dict[str, str] | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": tagging_text_format()})


class ResponsesRequest(BaseModel):
    """One line of a Batch API input file for ``/v1/responses``."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/responses"] = RESPONSES
    body: ResponsesBody


class Responses:
    """Requests of ``/v1/responses`` in Batch API files."""

    def custom_id(self, item_id: str) -> str:
        return item_id

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        body = ResponsesBody(
            model=options.model,
            instructions=system_prompt,
            input=[{"role": "user", "content": user}],
            max_output_tokens=options.max_output_tokens,
            temperature=options.temperature,
            reasoning={"effort": options.reasoning_effort} if options.reasoning_effort else None,
            text={"format": tagging_text_format(options.allowed_tags)},
        )
        return ResponsesRequest(custom_id=custom_id, body=body)


def response_reply(body: dict[str, Any]) -> Reply:
    """A response's reply: the text of its ``message`` items (a reasoning model puts a ``reasoning`` item
    first), a refusal, and why it is ``incomplete`` when it is."""
    model = text_of(body.get("model"))
    status = body.get("status")
    if status == "failed":
        error = object_of(body.get("error"))
        return Reply(None, None, None, f"response_failed: {error.get('message') or error.get('code') or status}", model)
    texts: list[str] = []
    refusal = None
    items = body.get("output")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        parts = item.get("content")
        for part in parts if isinstance(parts, list) else []:
            part = object_of(part)
            if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "refusal" and part.get("refusal"):
                refusal = str(part["refusal"])
    finish_reason = text_of(status)
    if status == "completed":
        finish_reason = "stop"
    elif status == "incomplete":
        reason = object_of(body.get("incomplete_details")).get("reason")
        finish_reason = "length" if reason == "max_output_tokens" else text_of(reason) or "incomplete"
    return Reply("".join(texts) if texts else None, refusal, finish_reason, None, model)
