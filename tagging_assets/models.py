"""The data contracts shared by the pipeline and the local gateway.

The gateway may import this module and nothing else of the pipeline, so it stays
free of Dagster, Qdrant and the ``openai`` SDK.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIN_TAGS = 3
MAX_TAGS = 5
TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_TAG_RE = re.compile(TAG_PATTERN)


class TaggingOutput(BaseModel):
    """The model's reply for one transcript: what is written back to the cache."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(min_length=MIN_TAGS, max_length=MAX_TAGS)
    summary: str = Field(min_length=1)

    @field_validator("tags")
    @classmethod
    def _tags_are_lowercase_hyphenated(cls, tags: list[str]) -> list[str]:
        bad = [tag for tag in tags if not _TAG_RE.match(tag)]
        if bad:
            raise ValueError(f"tags must be lowercase and hyphenated, got {bad}")
        return tags


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
    """The ``response_format`` of a chat completion request that asks for tags."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "video_tags", "schema": tagging_json_schema(), "strict": True},
    }
