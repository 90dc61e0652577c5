"""The data contracts shared by the pipeline and the local gateway.

The gateway may import this module and nothing else of the pipeline, so it stays
free of Dagster, Qdrant and the ``openai`` SDK.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIN_TAGS = 3
MAX_TAGS = 5
TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_TAG_RE = re.compile(TAG_PATTERN)
GENERIC_TAGS = frozenset(
    {
        "ai", "video", "videos", "podcast", "episode", "talk", "technology", "tech", "content", "general", "misc",
        "other", "interview", "discussion", "news", "update", "overview", "introduction", "tutorial",
    }
)  # fmt: skip
"""Tags that say nothing about a video's topic: the prompt forbids them and the format check rejects them."""


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


class BatchRequestBody(BaseModel):
    """The chat completion a batch line asks for."""

    model: str = Field("gpt-4o-mini", min_length=1)
    messages: list[dict[str, str]] = Field(min_length=1)
    temperature: float = 0.2
    max_tokens: int = 300
    response_format: dict[str, Any] = Field(default_factory=tagging_response_format)


class BatchRequest(BaseModel):
    """One line of a Batch API input file."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/chat/completions"] = "/v1/chat/completions"
    body: BatchRequestBody


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


class TaggingState(BaseModel):
    """The ``tagging`` object in a cache point's payload: where the point stands."""

    status: Literal["pending", "tagged", "failed"]
    batch_id: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    content_hash: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    retryable: bool = True
    attempts: int = 0
    truncated: bool = False
    submitted_at: str | None = None
    updated_at: str | None = None
