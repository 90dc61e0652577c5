"""Anthropic's Message Batches (``/v1/messages``): the request a shard holds, its builder, and the reader of its
results.

A shard holds each request as a ``{"custom_id", "params"}`` line, sent inline when the batch is created; each
result line says ``succeeded`` with its Message, ``errored`` with Anthropic's error, or that the batch never ran it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import MESSAGE_CUSTOM_ID, MESSAGES
from tagging_assets.wire._fields import count_of, object_of, text_of
from tagging_assets.wire.custom_ids import message_custom_id
from tagging_assets.wire.lines import Reply, RequestLine, ResultLine
from tagging_assets.wire.schema import SCHEMA_NAME, tagging_json_schema

ANTHROPIC_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status of each of Anthropic's error types, so an errored request is retried as a realtime call's
status would be."""
_STOP_REASONS = {"end_turn": "stop", "tool_use": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class MessageParams(BaseModel):
    """The message a Message Batch request asks for: ``max_tokens`` is required, the system prompt is
    ``system``, and the schema is ``output_config.format`` or the input schema of a forced tool."""

    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    system: str | None = None
    messages: list[dict[str, str]] = Field(min_length=1)
    temperature: float | None = None
    output_config: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None


class MessageBatchRequest(BaseModel):
    """One request of an Anthropic Message Batch, as a shard holds it."""

    custom_id: str = Field(pattern=MESSAGE_CUSTOM_ID)
    params: MessageParams


class MessageBatchOutcome(BaseModel):
    """A Message Batch request's result: ``succeeded`` carries its ``message``, ``errored`` its ``error``."""

    type: Literal["succeeded", "errored", "canceled", "expired"]
    message: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class MessageBatchResult(BaseModel):
    """One line of a Message Batch's results."""

    custom_id: str
    result: MessageBatchOutcome


class Messages:
    """Requests of Anthropic's Message Batches: the tagging schema through structured outputs, or as the input
    schema of a forced tool for a model without them. Anthropic's schemas take no ``pattern``, and ``minItems``
    only up to 1; the SDK's ``transform_schema`` moves those into the descriptions, and write-back still holds
    every reply to the full schema."""

    def custom_id(self, item_id: str) -> str:
        return message_custom_id(item_id)

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        from anthropic import transform_schema  # the SDK loads only where Anthropic's requests are made

        schema = transform_schema(tagging_json_schema(options.allowed_tags))
        structured: dict[str, Any] = {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
        if options.json_output == "tool":
            structured = {
                "tools": [{"name": SCHEMA_NAME, "description": "Record the tags and summary.", "input_schema": schema}],
                "tool_choice": {"type": "tool", "name": SCHEMA_NAME, "disable_parallel_tool_use": True},
            }
        params = MessageParams(
            model=options.model,
            max_tokens=options.max_output_tokens,
            system=system_prompt,
            messages=[{"role": "user", "content": user}],
            temperature=options.temperature,
            **structured,
        )
        return MessageBatchRequest(custom_id=custom_id, params=params)


def read_message_batch_request(line: bytes) -> RequestLine:
    """One request line of a Message Batch shard; a ``ValidationError`` names what is wrong with it."""
    message = MessageBatchRequest.model_validate_json(line)
    return RequestLine(message.custom_id, message.params.model, MESSAGES)


def read_message_batch_result(line: bytes) -> ResultLine:
    """A Message Batch result: ``succeeded`` with its Message, ``errored`` with Anthropic's error type, or a
    request the batch never ran (``canceled``, ``expired``), named as OpenAI's batches name it."""
    result = MessageBatchResult.model_validate_json(line)
    outcome = result.result
    if outcome.type in ("canceled", "expired"):
        code = "batch_cancelled" if outcome.type == "canceled" else "batch_expired"
        return ResultLine(result.custom_id, None, None, code, f"the Message Batch {outcome.type} before it ran")
    if outcome.type == "errored":
        error = object_of(object_of(outcome.error).get("error"))
        kind = text_of(error.get("type")) or "api_error"
        message = f"{kind}: {text_of(error.get('message')) or 'no message'}"
        return ResultLine(result.custom_id, ANTHROPIC_ERROR_STATUS.get(kind, 500), None, kind, message)
    body = object_of(outcome.message)
    usage = object_of(body.get("usage"))
    read, written = count_of(usage.get("cache_read_input_tokens")), count_of(usage.get("cache_creation_input_tokens"))
    tokens = TokenUsage(
        input_tokens=count_of(usage.get("input_tokens")) + read + written,
        output_tokens=count_of(usage.get("output_tokens")),
        cached_tokens=read,
    )
    tier = text_of(usage.get("service_tier"))
    return ResultLine(result.custom_id, 200, _message_reply(body), None, None, tokens, tier)


def _message_reply(body: dict[str, Any]) -> Reply:
    """A Message's reply: its text blocks, or the forced tool's input as JSON; a refusal as such."""
    model = text_of(body.get("model"))
    texts: list[str] = []
    blocks = body.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        block = object_of(block)
        if block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
            texts = [json.dumps(block["input"])]
            break
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
    text = "".join(texts) if texts else None
    stop_reason = text_of(body.get("stop_reason"))
    if stop_reason == "refusal":
        return Reply(None, text or "the model declined to answer (stop_reason refusal)", stop_reason, None, model)
    return Reply(text, None, _STOP_REASONS.get(stop_reason or "", stop_reason), None, model)
