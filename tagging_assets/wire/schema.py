"""The reply's JSON schema, and how each OpenAI endpoint asks for it with Structured Outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS, TAG_PATTERN

SCHEMA_NAME = "video_tags"


def tagging_json_schema(allowed_tags: Sequence[str] = ()) -> dict[str, Any]:
    """The strict JSON schema asked for with Structured Outputs; with a closed vocabulary, each tag is one of
    ``allowed_tags`` (an ``enum``, which every provider's structured outputs take for strings).

    Written by hand rather than taken from ``TaggingOutput.model_json_schema()``
    because strict mode accepts only a subset of JSON Schema (every property
    required, no additional properties, no titles).
    """
    tag: dict[str, Any] = (
        {"type": "string", "enum": list(allowed_tags)}
        if allowed_tags
        else {
            "type": "string",
            "pattern": TAG_PATTERN,
        }
    )
    return {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": tag,
                "minItems": MIN_TAGS,
                "maxItems": MAX_TAGS,
            },
            "summary": {"type": "string"},
        },
        "required": ["tags", "summary"],
        "additionalProperties": False,
    }


def tagging_response_format(allowed_tags: Sequence[str] = ()) -> dict[str, Any]:
    """Chat Completions' ``response_format``: the schema nested under ``json_schema``."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": tagging_json_schema(allowed_tags), "strict": True},
    }


def tagging_text_format(allowed_tags: Sequence[str] = ()) -> dict[str, Any]:
    """The Responses API's ``text.format``: the same schema, flat."""
    return {"type": "json_schema", "name": SCHEMA_NAME, "schema": tagging_json_schema(allowed_tags), "strict": True}
