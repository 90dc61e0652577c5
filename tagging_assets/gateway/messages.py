"""Anthropic's Messages API as the gateway speaks it: a message request read, a Message built, errors in
Anthropic's shape, and a Message Batch as Anthropic shows it.

The work behind a message is the same tagger as behind a chat completion (``completions.complete``); this
module only knows Anthropic's request and reply formats, so that the official ``anthropic`` SDK talks to the
gateway as it talks to the real API.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from tagging_assets.core.protocol import TERMINAL_STATUSES
from tagging_assets.gateway.models import TaggingRequest, message_text
from tagging_assets.gateway.settings import FaultSettings

CLAUDE_SNAPSHOTS = {
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-opus-4-5": "claude-opus-4-5-20251101",
}
"""Each served Claude model and the dated snapshot its replies name."""
ANTHROPIC_SERVICE_TIERS = ("auto", "standard_only")
"""What Anthropic's ``service_tier`` takes: it has no flex tier."""
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    """An error in Anthropic's shape: ``{"type": "error", "error": {"type", "message"}}``."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def error_kind(status: int) -> str:
    """Anthropic's error type for an HTTP status."""
    return {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}.get(
        status, "rate_limit_error" if status == 429 else "api_error" if status >= 500 else "invalid_request_error"
    )


def claude_snapshot(model: str) -> str | None:
    if model in CLAUDE_SNAPSHOTS.values():
        return model
    return CLAUDE_SNAPSHOTS.get(model)


def read_message(body: Any, faults: FaultSettings) -> TaggingRequest | tuple[int, dict[str, Any]]:
    """A valid message request, or the ``(status, error)`` Anthropic answers it with. The schema comes from
    ``output_config.format`` (structured outputs) or from the input schema of the tool ``tool_choice`` forces."""
    if not isinstance(body, dict):
        return 400, anthropic_error("invalid_request_error", "The request body must be a JSON object.")
    model, limit, messages = body.get("model"), body.get("max_tokens"), body.get("messages")
    for name, valid in (
        ("model", isinstance(model, str) and bool(model)),
        ("max_tokens", isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1),
        ("messages", isinstance(messages, list) and bool(messages)),
    ):
        if not valid:
            return 400, anthropic_error("invalid_request_error", f"{name}: Field required")
    assert isinstance(model, str) and isinstance(limit, int) and isinstance(messages, list)
    snapshot = claude_snapshot(model)
    if snapshot is None or faults.retired(model):
        return 404, anthropic_error("not_found_error", f"model: {model}")
    if body.get("service_tier", "auto") not in ANTHROPIC_SERVICE_TIERS:
        return 400, anthropic_error("invalid_request_error", "service_tier: Input should be 'auto' or 'standard_only'")
    schema, tool = _schema(body)
    if isinstance(schema, str):
        return 400, anthropic_error("invalid_request_error", schema)
    text = "\n\n".join(
        message_text(message) for message in messages if isinstance(message, dict) and message.get("role") == "user"
    )
    return TaggingRequest(model, snapshot, text, schema, limit, None, tool)


def _schema(body: dict[str, Any]) -> tuple[dict[str, Any] | str | None, str | None]:
    """The JSON schema the reply must follow and the forced tool's name, or a problem's message."""
    output_format = (body.get("output_config") or {}).get("format")
    if isinstance(output_format, dict):
        if output_format.get("type") != "json_schema" or not isinstance(output_format.get("schema"), dict):
            return "output_config.format: expected {type: json_schema, schema: {...}}", None
        if problem := unsupported_in_schema(output_format["schema"]):
            return f"output_config.format.schema: {problem}", None
        return output_format["schema"], None
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        tools = {tool.get("name"): tool for tool in body.get("tools") or [] if isinstance(tool, dict)}
        forced = tools.get(choice.get("name"))
        if forced is None or not isinstance(forced.get("input_schema"), dict):
            return f"tool_choice: no tool named {choice.get('name')!r} with an input_schema", None
        return forced["input_schema"], str(choice["name"])
    return None, None


UNSUPPORTED_KEYWORDS = {
    "array": ("maxItems", "uniqueItems"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "string": ("minLength", "maxLength"),
}
"""What Anthropic's structured outputs refuse in a schema, by type (its SDK's ``transform_schema`` moves these
into descriptions); ``minItems`` is taken only as 0 or 1, and every object must close its properties."""


def unsupported_in_schema(schema: Any) -> str | None:
    """The first part of a structured-output schema Anthropic would refuse, in its words, or None."""
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    for keyword in UNSUPPORTED_KEYWORDS.get(str(kind), ()):
        if keyword in schema:
            return f"For '{kind}' type, property '{keyword}' is not supported"
    if kind == "array" and schema.get("minItems", 0) not in (0, 1):
        return "For 'array' type, property 'minItems' only supports values 0 or 1"
    if kind == "object" and schema.get("additionalProperties") is not False:
        return "For 'object' type, 'additionalProperties' must be explicitly set to false"
    children = [*(schema.get("properties") or {}).values(), schema.get("items")]
    return next((problem for child in children if (problem := unsupported_in_schema(child))), None)


def message(
    key: str,
    request: TaggingRequest,
    content: str | None,
    refusal: str | None,
    finished: bool,
    usage: tuple[int, int, int],
    service_tier: str = "standard",
) -> dict[str, Any]:
    """A Message: the reply as text, or as the forced tool's input; ``stop_reason`` as Anthropic reports it.
    ``usage`` is (input tokens, of them read from the prompt cache, output tokens): Anthropic counts the cache
    read apart from ``input_tokens``. ``service_tier`` is ``standard`` in realtime and ``batch`` inside a Message
    Batch, as Anthropic's usage reports them."""
    input_tokens, cached, output_tokens = usage
    digest = hashlib.sha256(f"message:{key}".encode()).hexdigest()
    tool = request.tool
    blocks: list[dict[str, Any]] = []
    if refusal:
        stop_reason = "refusal"
    elif not finished:
        stop_reason = "max_tokens"
        if content and tool is None:
            blocks.append({"type": "text", "text": content})
    elif tool is not None and (arguments := _json_object(content)) is not None:
        stop_reason = "tool_use"
        blocks.append({"type": "tool_use", "id": f"toolu_{digest[:24]}", "name": tool, "input": arguments})
    else:
        stop_reason = "end_turn"
        blocks.append({"type": "text", "text": content or ""})
    return {
        "id": f"msg_{digest[24:48]}",
        "type": "message",
        "role": "assistant",
        "model": request.snapshot,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens - cached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cached,
            "output_tokens": output_tokens,
            "service_tier": service_tier,
        },
    }


def _json_object(text: str | None) -> dict[str, Any] | None:
    """A tool's input is a JSON object; a reply that is not one (an injected fault) goes out as text."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def batch_result(custom_id: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """One line of a Message Batch's results: ``succeeded`` with its Message, or ``errored`` with the error."""
    if status == 200:
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": body}}
    if body.get("type") != "error":
        body = anthropic_error(error_kind(status), str((body.get("error") or {}).get("message") or "error"))
    return {"custom_id": custom_id, "result": {"type": "errored", "error": {**body, "request_id": None}}}


def unfinished_result(custom_id: str, kind: str) -> dict[str, Any]:
    """The result of a request a batch never ran: ``canceled`` or ``expired``."""
    return {"custom_id": custom_id, "result": {"type": kind}}


def message_batch(batch: dict[str, Any], results_url: str) -> dict[str, Any]:
    """A stored batch as Anthropic shows a Message Batch. Counts other than ``processing`` stay zero until the
    whole batch has ended, as Anthropic documents."""
    status = batch["status"]
    counts = batch["request_counts"]
    ended = status in TERMINAL_STATUSES
    ended_at = next((batch[f"{name}_at"] for name in sorted(TERMINAL_STATUSES) if batch.get(f"{name}_at")), None)
    unfinished = counts.get("expired", 0) + counts.get("canceled", 0)
    return {
        "id": batch["id"],
        "type": "message_batch",
        "processing_status": "ended" if ended else "canceling" if status == "cancelling" else "in_progress",
        "request_counts": {
            "processing": 0 if ended else counts["total"],
            "succeeded": counts["completed"] if ended else 0,
            "errored": counts["failed"] - unfinished if ended else 0,
            "canceled": counts.get("canceled", 0) if ended else 0,
            "expired": counts.get("expired", 0) if ended else 0,
        },
        "created_at": _iso(batch["created_at"]),
        "expires_at": _iso(batch["expires_at"]),
        "ended_at": _iso(ended_at),
        "cancel_initiated_at": _iso(batch.get("cancelling_at")),
        "archived_at": None,
        "results_url": results_url if ended else None,
    }


def _iso(timestamp: int | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z") if timestamp else None
