"""``/v1/chat/completions`` in Batch API files: the request line, its builder, and the reader of its reply."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import CHAT_COMPLETIONS
from tagging_assets.wire._fields import object_of, text_of
from tagging_assets.wire.lines import Reply
from tagging_assets.wire.schema import tagging_response_format


class ChatCompletionBody(BaseModel):
    """The chat completion a batch line asks for. ``max_tokens`` is never sent: it is deprecated, and the
    reasoning models refuse it."""

    model: str = Field(min_length=1)
    messages: list[dict[str, str]] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    reasoning_effort: str | None = None
    response_format: dict[str, Any] = Field(default_factory=tagging_response_format)


class ChatCompletionRequest(BaseModel):
    """One line of a Batch API input file for ``/v1/chat/completions``."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/chat/completions"] = CHAT_COMPLETIONS
    body: ChatCompletionBody


class ChatCompletions:
    """Requests of ``/v1/chat/completions`` in Batch API files."""

    def custom_id(self, item_id: str) -> str:
        return item_id

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]
        body = ChatCompletionBody(
            model=options.model,
            messages=messages,
            max_completion_tokens=options.max_output_tokens,
            temperature=options.temperature,
            reasoning_effort=options.reasoning_effort,
            response_format=tagging_response_format(options.allowed_tags),
        )
        return ChatCompletionRequest(custom_id=custom_id, body=body)


def chat_reply(body: dict[str, Any]) -> Reply:
    """A chat completion's reply: its first choice's message, refusal and finish reason."""
    model = text_of(body.get("model"))
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Reply(None, None, None, "no_choices: the reply has no choices", model)
    choice = choices[0]
    message = object_of(choice.get("message"))
    refusal = message.get("refusal")
    finish_reason = text_of(choice.get("finish_reason"))
    return Reply(text_of(message.get("content")), str(refusal) if refusal else None, finish_reason, None, model)
