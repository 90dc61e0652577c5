"""The result envelope of OpenAI's Batch API files, which every endpoint there shares, at OpenAI and Azure alike.

A result line carries either an HTTP response (a body does not mean success) or a failure that never reached
HTTP, such as ``batch_expired``. The envelope, the usage and the body's top-level ``service_tier`` (Chat
Completions and Responses both carry it; a flex request may be served at another tier) are read here; the reply
inside a successful body is read by its endpoint's reader, which the caller picks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from tagging_assets.core.contracts import TokenUsage
from tagging_assets.wire._fields import count_of, object_of, text_of
from tagging_assets.wire.lines import ReplyReader, ResultLine


class BatchResponse(BaseModel):
    """The HTTP response a batch line got; a body does not mean success."""

    status_code: int
    request_id: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)


class BatchLineError(BaseModel):
    """A failure that never reached HTTP, such as ``batch_expired``."""

    code: str | None = None
    message: str | None = None


class BatchResult(BaseModel):
    """One line of a Batch API output or error file."""

    id: str | None = None
    custom_id: str
    response: BatchResponse | None = None
    error: BatchLineError | None = None


def read_batch_file_result(line: bytes | str, reader_of: Callable[[dict[str, Any]], ReplyReader]) -> ResultLine:
    """One line of an output or error file; ``reader_of`` picks the reader of a successful body's reply."""
    result = BatchResult.model_validate_json(line)
    if result.response is None:
        error = result.error
        return ResultLine(result.custom_id, None, None, error.code if error else None, error.message if error else None)
    body = result.response.body
    usage = _usage(object_of(body.get("usage")))
    tier = text_of(body.get("service_tier"))
    if result.response.status_code != 200:
        message = object_of(body.get("error")).get("message")
        return ResultLine(result.custom_id, result.response.status_code, None, None, message, usage, tier)
    return ResultLine(result.custom_id, 200, reader_of(body)(body), None, None, usage, tier)


def _usage(usage: dict[str, Any]) -> TokenUsage:
    """Either endpoint's usage: Chat Completions' prompt/completion tokens, or Responses' input/output tokens."""
    if "input_tokens" in usage or "output_tokens" in usage:
        input_details, output_details = usage.get("input_tokens_details"), usage.get("output_tokens_details")
        input_tokens, output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    else:
        input_details, output_details = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
        input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return TokenUsage(
        input_tokens=count_of(input_tokens),
        output_tokens=count_of(output_tokens),
        cached_tokens=count_of(object_of(input_details).get("cached_tokens")),
        reasoning_tokens=count_of(object_of(output_details).get("reasoning_tokens")),
    )
