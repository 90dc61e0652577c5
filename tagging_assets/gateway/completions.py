"""One chat completion or response, answered by the offline tagger: the work behind
the realtime endpoints and every line of a batch.

It runs in worker processes, so it takes and returns plain data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS
from tagging_assets.gateway.messages import MESSAGES, anthropic_error, error_kind, message, read_message
from tagging_assets.gateway.models import (
    TaggingRequest,
    error_body,
    message_text,
    missing_parameter,
    model_not_found,
    reasoning_problem,
    reasoning_tokens,
    snapshot_of,
)
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tagger import BatchTerms, Tagging, tag_text

CHARS_PER_TOKEN = 4
"""Token counts are estimated as one token per four characters (OpenAI's own rule
of thumb for English), plus four tokens of framing per message and three per reply.
The gateway needs no tokenizer download that way; the counts are estimates."""

TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
CACHE_MINIMUM, CACHE_STEP = 1024, 128
CHAT_COMPLETIONS, RESPONSES = "/v1/chat/completions", "/v1/responses"
logger = logging.getLogger(__name__)
REFUSAL = "I'm sorry, but I can't help with that request."


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the documented estimate."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a chat completion or a response request body."""
    return TOKENS_PER_REPLY + sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for _, text in _turns(body))


def user_text(body: dict[str, Any]) -> str:
    """What a request of any endpoint asks to tag: its user turns, as each endpoint's reader takes them."""
    return "\n\n".join(text for role, text in _turns(body) if role == "user")


def cached_tokens(body: dict[str, Any]) -> int:
    """The prompt prefix OpenAI's cache would serve: the instructions, in steps of 128 tokens, once they reach
    1,024 (shorter prefixes are never cached). The gateway treats the cache as warm."""
    system = sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for role, text in _turns(body) if role != "user")
    return (system // CACHE_STEP) * CACHE_STEP if system >= CACHE_MINIMUM else 0


def request_id(key: str) -> str:
    """A stable id for one request, so a replayed line keeps its id."""
    return "req_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def answer(
    endpoint: str, body: dict[str, Any], key: str, tagger: str, faults: FaultSettings, batch: BatchTerms | None
) -> tuple[int, dict[str, Any]]:
    """``complete``, with an unexpected failure answered as OpenAI's 500 for that one
    request, so one strange request never stops the batch it is in."""
    try:
        return complete(endpoint, body, key, tagger, faults, batch)
    except Exception:
        logger.exception("request %s failed inside the gateway", key)
        return 500, error_body(
            "The server had an error while processing your request. Sorry about that!", "server_error"
        )


def complete(
    endpoint: str,
    body: dict[str, Any],
    key: str,
    tagger: str,
    faults: FaultSettings,
    batch: BatchTerms | None = None,
) -> tuple[int, dict[str, Any]]:
    """Answer one ``/v1/chat/completions``, ``/v1/responses`` or ``/v1/messages`` body:
    ``(http_status, response_body)``.

    ``key`` identifies the request (the custom_id in a batch) and decides which
    injected faults hit it; ``batch`` holds the terms of the batch it is in (none in realtime).
    """
    if faults.seconds_per_line:
        time.sleep(faults.seconds_per_line)
    readers = {RESPONSES: read_responses, MESSAGES: read_message}
    request = readers.get(endpoint, read_chat)(body, faults)
    if not isinstance(request, TaggingRequest):
        return request
    if faults.picks("line_error", key, faults.line_error_rate):
        status = faults.line_error_status
        error = _injected_error(status)
        return status, anthropic_error(error_kind(status), error["error"]["message"]) if endpoint == MESSAGES else error
    text = request.user_text
    tagging = _echo(text) if tagger == "echo" else tag_text(text, max_tags=_max_tags(request.schema), batch=batch)
    refusal = None
    limit = request.limit
    if faults.picks("refusal", key, faults.refusal_rate):
        content, refusal = None, REFUSAL
    elif faults.picks("invalid_json", key, faults.invalid_json_rate):
        content = json.dumps({"tags": tagging.tags, "summary": tagging.summary})[: len(tagging.summary) // 2 + 12]
    elif faults.picks("schema_violation", key, faults.schema_violation_rate):
        content = json.dumps({"tags": ", ".join(tagging.tags)})
    elif faults.picks("length", key, faults.length_rate):
        content = json.dumps(_contract(tagging))
        limit = TOKENS_PER_REPLY + estimate_tokens(content) // 2
    else:
        schema = request.schema
        content = json.dumps(_fill(schema, tagging, "reply") if schema else _contract(tagging), ensure_ascii=False)
    reasoning = reasoning_tokens(request.model, request.effort)
    visible = TOKENS_PER_REPLY + estimate_tokens(content or refusal or "")
    finished = True
    if isinstance(limit, int) and reasoning >= limit:
        reasoning, visible, content, refusal, finished = limit, 0, "", None, False
    elif content is not None and isinstance(limit, int) and reasoning + visible > limit:
        visible = limit - reasoning
        content = content[: max(0, (visible - TOKENS_PER_REPLY) * CHARS_PER_TOKEN)]
        finished = False
    usage = Usage(prompt_tokens(body), cached_tokens(body), reasoning + visible, reasoning)
    reply = Reply(content, refusal, finished, usage)
    if endpoint == MESSAGES:
        counts = (usage.input_tokens, usage.cached_tokens, usage.output_tokens)
        return 200, message(key, request, reply.content, reply.refusal, reply.finished, counts)
    if endpoint == RESPONSES:
        return 200, _response(body, request, key, reply)
    return 200, _chat_completion(request, key, reply)


def read_chat(body: Any, faults: FaultSettings) -> TaggingRequest | tuple[int, dict[str, Any]]:
    """A chat completion request, or the error OpenAI answers it with."""
    if not isinstance(body, dict):
        return 400, error_body("The request body must be a JSON object.", "invalid_request_error")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return 400, error_body("you must provide a model parameter", "invalid_request_error", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, missing_parameter("messages")
    if not all(isinstance(message, dict) and "role" in message for message in messages):
        return 400, error_body("Each message must be an object with a 'role'.", "invalid_request_error", "messages")
    response_format = body.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("text", "json_object", "json_schema")
    ):
        return 400, error_body(
            "Invalid value for 'response_format.type'.", "invalid_request_error", "response_format.type"
        )
    schema = None
    if response_format and response_format["type"] == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            return 400, missing_parameter("response_format.json_schema.schema")
    model = faults.model_behind(requested := model)
    snapshot = snapshot_of(model)
    if snapshot is None or faults.retired(model):
        return 404, model_not_found(requested)
    effort = body.get("reasoning_effort")
    problem = reasoning_problem(model, effort, "reasoning_effort", body.get("temperature"), body.get("max_tokens"))
    if problem is not None:
        return 400, problem
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    return TaggingRequest(model, snapshot, user_text(body), schema, limit if isinstance(limit, int) else None, effort)


_MOVED_IN_RESPONSES = {
    "reasoning_effort": "reasoning.effort",
    "response_format": "text.format",
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
}
"""Chat Completions parameters the Responses API refuses, and where each lives there."""
MIN_OUTPUT_TOKENS = 16


def read_responses(body: Any, faults: FaultSettings) -> TaggingRequest | tuple[int, dict[str, Any]]:
    """A response request, or the error OpenAI answers it with."""
    if not isinstance(body, dict):
        return 400, error_body("The request body must be a JSON object.", "invalid_request_error")
    for param, moved in _MOVED_IN_RESPONSES.items():
        if param in body:
            return 400, error_body(
                f"Unsupported parameter: '{param}'. In the Responses API, this parameter has moved to '{moved}'. "
                "Try again with the new parameter. See the API documentation for more information: "
                "https://platform.openai.com/docs/api-reference/responses/create.",
                "invalid_request_error",
                None,
                "unsupported_parameter",
            )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return 400, missing_parameter("model")
    items = body.get("input")
    if not (isinstance(items, str) and items) and not (
        isinstance(items, list) and items and all(isinstance(item, dict) for item in items)
    ):
        return 400, missing_parameter("input")
    text_format = _object(_object(body.get("text")).get("format"))
    schema = None
    if text_format.get("type") == "json_schema":
        for field in ("name", "schema"):
            if not text_format.get(field):
                return 400, missing_parameter(f"text.format.{field}")
        schema = text_format["schema"]
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < MIN_OUTPUT_TOKENS):
        return 400, error_body(
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, "
            f"but got {limit} instead.",
            "invalid_request_error",
            "max_output_tokens",
            "integer_below_min_value",
        )
    model = faults.model_behind(requested := model)
    snapshot = snapshot_of(model)
    if snapshot is None or faults.retired(model):
        return 404, model_not_found(requested)
    effort = _object(body.get("reasoning")).get("effort")
    problem = reasoning_problem(model, effort, "reasoning.effort", body.get("temperature"), None)
    if problem is not None:
        return 400, problem
    return TaggingRequest(model, snapshot, user_text(body), schema, limit, effort)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every turn of either endpoint's body; the Responses API's instructions are a system turn."""
    turns: list[tuple[str, str]] = []
    system = body.get("instructions", body.get("system"))
    if isinstance(system, str):
        turns.append(("system", system))
    messages = body.get("messages", body.get("input"))
    if isinstance(messages, str):
        turns.append(("user", messages))
    elif isinstance(messages, list):
        turns.extend((str(m.get("role", "user")), message_text(m)) for m in messages if isinstance(m, dict))
    return turns


def _injected_error(status: int) -> dict[str, Any]:
    if status >= 500:
        return error_body("The server had an error while processing your request. Sorry about that!", "server_error")
    if status == 429:
        return error_body("Rate limit reached for requests.", "requests", None, "rate_limit_exceeded")
    return error_body("The request was rejected (injected fault).", "invalid_request_error")


def _max_tags(schema: dict[str, Any] | None) -> int:
    tags_schema = ((schema or {}).get("properties") or {}).get("tags") or {}
    return int(tags_schema.get("maxItems", MAX_TAGS))


def _contract(tagging: Tagging) -> dict[str, Any]:
    return {"tags": tagging.tags, "summary": tagging.summary}


def _fill(schema: dict[str, Any], tagging: Tagging, name: str) -> Any:
    """A value for ``schema`` built from what the tagger found, chosen by the
    property's name and type, so any reasonable tagging schema is honoured."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: _fill(value, tagging, key) for key, value in properties.items()}
    if kind == "array":
        items = schema.get("items") or {"type": "string"}
        values = tagging.tags if items.get("type") == "string" else [_fill(items, tagging, name)]
        return values[: schema.get("maxItems", len(values))]
    if kind == "string":
        if "tag" in name.lower() or "keyword" in name.lower():
            return tagging.tags[0] if tagging.tags else ""
        return tagging.summary
    if kind in ("integer", "number"):
        return len(tagging.tags)
    if kind == "boolean":
        return bool(tagging.tags)
    return None


def _echo(text: str) -> Tagging:
    """The trivial tagger: the first words back. It measures the server, not the tagger."""
    words = ["".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split()[:40]]
    words = [word for word in words if word]
    return Tagging(tags=words[:MIN_TAGS], summary=" ".join(words[:20]))


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int


@dataclass(frozen=True)
class Reply:
    content: str | None
    refusal: str | None
    finished: bool
    """False when the output limit cut the reply short, reasoning included."""
    usage: Usage


def _chat_completion(request: TaggingRequest, key: str, reply: Reply) -> dict[str, Any]:
    usage = reply.usage
    return {
        "id": "chatcmpl-" + hashlib.sha256(f"completion:{key}".encode()).hexdigest()[:29],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.snapshot,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.content,
                    "refusal": reply.refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop" if reply.finished else "length",
            }
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": usage.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_tagging_assets_gateway",
    }


def _response(body: dict[str, Any], request: TaggingRequest, key: str, reply: Reply) -> dict[str, Any]:
    """A Responses API object: a reasoning item first when the model reasoned, then the message, which is
    missing when reasoning spent the whole output limit (``status: incomplete``)."""
    digest = hashlib.sha256(f"response:{key}".encode()).hexdigest()
    usage = reply.usage
    output: list[dict[str, Any]] = []
    if usage.reasoning_tokens:
        output.append({"id": f"rs_{digest[:32]}", "type": "reasoning", "summary": []})
    if reply.content or reply.refusal:
        part: dict[str, Any] = (
            {"type": "refusal", "refusal": reply.refusal}
            if reply.refusal
            else {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
        )
        output.append(
            {
                "id": f"msg_{digest[32:64]}",
                "type": "message",
                "role": "assistant",
                "status": "completed" if reply.finished else "incomplete",
                "content": [part],
            }
        )
    return {
        "id": f"resp_{digest[:48]}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if reply.finished else "incomplete",
        "incomplete_details": None if reply.finished else {"reason": "max_output_tokens"},
        "error": None,
        "model": request.snapshot,
        "output": output,
        "instructions": body.get("instructions"),
        "max_output_tokens": request.limit,
        "reasoning": {"effort": request.effort, "summary": None},
        "text": body.get("text") or {"format": {"type": "text"}},
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }
