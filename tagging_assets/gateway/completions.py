"""One chat completion, answered by the offline tagger: the work behind both the
realtime endpoint and every line of a batch.

It runs in worker processes, so it takes and returns plain data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from typing import Any

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tagger import Tagging, tag_text

CHARS_PER_TOKEN = 4
"""Token counts are estimated as one token per four characters (OpenAI's own rule
of thumb for English), plus four tokens of framing per message and three per reply.
The gateway needs no tokenizer download that way; the counts are estimates."""

TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
logger = logging.getLogger(__name__)
REFUSAL = "I'm sorry, but I can't help with that request."


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the documented estimate."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a chat completion request body."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return TOKENS_PER_REPLY + sum(TOKENS_PER_MESSAGE + estimate_tokens(_message_text(m)) for m in messages)


def request_id(key: str) -> str:
    """A stable id for one request, so a replayed line keeps its id."""
    return "req_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def error_body(message: str, error_type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """An error in OpenAI's shape."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def answer(body: dict[str, Any], key: str, tagger: str, faults: FaultSettings) -> tuple[int, dict[str, Any]]:
    """``complete``, with an unexpected failure answered as OpenAI's 500 for that one
    request, so one strange request never stops the batch it is in."""
    try:
        return complete(body, key, tagger, faults)
    except Exception:
        logger.exception("request %s failed inside the gateway", key)
        return 500, error_body(
            "The server had an error while processing your request. Sorry about that!", "server_error"
        )


def complete(body: dict[str, Any], key: str, tagger: str, faults: FaultSettings) -> tuple[int, dict[str, Any]]:
    """Answer one ``/v1/chat/completions`` body: ``(http_status, response_body)``.

    ``key`` identifies the request (the custom_id in a batch) and decides which
    injected faults hit it.
    """
    if faults.seconds_per_line:
        time.sleep(faults.seconds_per_line)
    problem = _invalid_request(body)
    if problem is not None:
        return 400, problem
    if faults.picks("line_error", key, faults.line_error_rate):
        return faults.line_error_status, _injected_error(faults.line_error_status)
    schema = _json_schema(body.get("response_format"))
    text = "\n\n".join(_message_text(m) for m in body["messages"] if m.get("role") in ("user", None))
    max_tags = _max_tags(schema)
    tagging = _echo(text) if tagger == "echo" else tag_text(text, max_tags=max_tags)
    refusal = None
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
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
        content = json.dumps(_fill(schema, tagging, "reply") if schema else _contract(tagging), ensure_ascii=False)
    completion_tokens = TOKENS_PER_REPLY + estimate_tokens(content or refusal or "")
    finish_reason = "stop"
    if content is not None and isinstance(limit, int) and completion_tokens > limit:
        content = content[: max(0, (limit - TOKENS_PER_REPLY) * CHARS_PER_TOKEN)]
        completion_tokens, finish_reason = limit, "length"
    return 200, _chat_completion(body, key, content, refusal, finish_reason, prompt_tokens(body), completion_tokens)


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _invalid_request(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict):
        return error_body("The request body must be a JSON object.", "invalid_request_error")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return error_body("you must provide a model parameter", "invalid_request_error", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_body(
            "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter"
        )
    if not all(isinstance(message, dict) and "role" in message for message in messages):
        return error_body("Each message must be an object with a 'role'.", "invalid_request_error", "messages")
    response_format = body.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("text", "json_object", "json_schema")
    ):
        return error_body("Invalid value for 'response_format.type'.", "invalid_request_error", "response_format.type")
    if response_format and response_format["type"] == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            return error_body(
                "Missing required parameter: 'response_format.json_schema.schema'.",
                "invalid_request_error",
                "response_format.json_schema.schema",
                "missing_required_parameter",
            )
    return None


def _injected_error(status: int) -> dict[str, Any]:
    if status >= 500:
        return error_body("The server had an error while processing your request. Sorry about that!", "server_error")
    if status == 429:
        return error_body("Rate limit reached for requests.", "requests", None, "rate_limit_exceeded")
    return error_body("The request was rejected (injected fault).", "invalid_request_error")


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        return response_format["json_schema"]["schema"]
    return None


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


def _chat_completion(
    body: dict[str, Any],
    key: str,
    content: str | None,
    refusal: str | None,
    finish_reason: str,
    input_tokens: int,
    output_tokens: int,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + hashlib.sha256(f"completion:{key}".encode()).hexdigest()[:29],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_tagging_assets_gateway",
    }
