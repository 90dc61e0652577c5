"""The replies the gateway builds from what the tagger found: the content a schema asks for, and a chat completion
or a Responses API object around it, in OpenAI's shapes."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from tagging_assets.core.contracts import MAX_TAGS
from tagging_assets.gateway.models import TaggingRequest
from tagging_assets.gateway.tagger import Tagging


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
    service_tier: str = "default"
    """The tier that served it, which the reply echoes: ``flex`` only for a flex request served at flex."""


def max_tags(schema: dict[str, Any] | None) -> int:
    tags_schema = ((schema or {}).get("properties") or {}).get("tags") or {}
    return int(tags_schema.get("maxItems", MAX_TAGS))


def vocabulary_of(schema: dict[str, Any] | None) -> list[str]:
    """The closed vocabulary a schema holds its tags to (the ``enum`` of its tags' items); empty for any tag."""
    tags_schema = ((schema or {}).get("properties") or {}).get("tags") or {}
    enum = (tags_schema.get("items") or {}).get("enum")
    return [value for value in enum if isinstance(value, str)] if isinstance(enum, list) else []


def contract(tagging: Tagging) -> dict[str, Any]:
    return {"tags": tagging.tags, "summary": tagging.summary}


def messy(tagging: Tagging, *, few: bool) -> dict[str, Any]:
    """A reply whose tags mean the tagger's but are spelled as models spell them when they stray: title case and
    spaces, shouting underscores, a repeat and a plural twin, edge punctuation, slashes, generic tags, six or more
    in all. ``few`` keeps only two of the tagger's tags usable, among generic ones and repeats."""
    first, *rest = tagging.tags or ["untitled"]
    twin = first if first.endswith("s") else f"{first}s"
    if few:
        second = rest[0] if rest else twin
        spelled = [first.upper(), "Podcast", second.replace("-", "_"), twin, "video"]
    else:
        spelled = [
            first.replace("-", " ").title(),
            "Video",
            first.upper(),
            twin,
            *(f"#{tag.replace('-', '_').upper()}!" for tag in rest[:1]),
            *(tag.replace("-", "/") for tag in rest[1:]),
            "technology",
        ]
    return {"tags": spelled, "summary": tagging.summary}


def fill(schema: dict[str, Any], tagging: Tagging, name: str) -> Any:
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
        return {key: fill(value, tagging, key) for key, value in properties.items()}
    if kind == "array":
        items = schema.get("items") or {"type": "string"}
        values = tagging.tags if items.get("type") == "string" else [fill(items, tagging, name)]
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


def chat_completion(request: TaggingRequest, key: str, reply: Reply) -> dict[str, Any]:
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
        "service_tier": reply.service_tier,
        "system_fingerprint": "fp_tagging_assets_gateway",
    }


def response(body: dict[str, Any], request: TaggingRequest, key: str, reply: Reply) -> dict[str, Any]:
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
        "service_tier": reply.service_tier,
        "text": body.get("text") or {"format": {"type": "text"}},
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }
