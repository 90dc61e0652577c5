"""The reply's JSON schema, and how each OpenAI endpoint asks for it with Structured Outputs."""

from __future__ import annotations

from typing import Any

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS, TAG_PATTERN

SCHEMA_NAME = "video_tags"


def tagging_json_schema() -> dict[str, Any]:
    """The strict JSON schema asked for with Structured Outputs.

    Written by hand rather than taken from ``TaggingOutput.model_json_schema()``
    because strict mode accepts only a subset of JSON Schema (every property
    required, no additional properties, no titles).
    """
    return {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string", "pattern": TAG_PATTERN},
                "minItems": MIN_TAGS,
                "maxItems": MAX_TAGS,
            },
            "summary": {"type": "string"},
        },
        "required": ["tags", "summary"],
        "additionalProperties": False,
    }


def tagging_response_format() -> dict[str, Any]:
    """Chat Completions' ``response_format``: the schema nested under ``json_schema``."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": tagging_json_schema(), "strict": True},
    }


def tagging_text_format() -> dict[str, Any]:
    """The Responses API's ``text.format``: the same schema, flat."""
    return {"type": "json_schema", "name": SCHEMA_NAME, "schema": tagging_json_schema(), "strict": True}
