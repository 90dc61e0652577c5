"""The one seam that knows what goes over the wire: a Batch API input line and a result line.

Everything else in the package speaks in ``RequestLine``, ``ResultLine`` and ``Reply``:
selection, sharding, write-back, the checks and the Dagster layer never look inside
a request body or a reply. Today that is ``/v1/chat/completions`` on the OpenAI
Batch API; another endpoint or provider is another class with the same methods here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel, Field

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS, TAG_PATTERN

ENDPOINT: Final = "/v1/chat/completions"
MAX_TOKENS = 300
"""The reply's token cap: a tags-and-summary reply runs to about 80."""
TEMPERATURE = 0.2


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
    temperature: float = TEMPERATURE
    max_tokens: int = MAX_TOKENS
    response_format: dict[str, Any] = Field(default_factory=tagging_response_format)


class BatchRequest(BaseModel):
    """One line of a Batch API input file."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/chat/completions"] = ENDPOINT
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


@dataclass(frozen=True, slots=True)
class RequestLine:
    """What the rest of the pipeline needs to know of one input line."""

    custom_id: str
    model: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful HTTP exchange's reply, as far as tagging cares."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    problem: str | None = None
    """Why the body holds no reply at all (``no_choices: ...``), else None."""


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One line of a result file: an HTTP status and its reply, or a failure that never reached HTTP."""

    custom_id: str
    status_code: int | None
    reply: Reply | None
    error_code: str | None
    error_message: str | None
    input_tokens: int = 0
    output_tokens: int = 0


class ChatCompletions:
    """Requests and replies of ``/v1/chat/completions`` in Batch API files."""

    endpoint: Final = ENDPOINT

    def request(self, custom_id: str, model: str, system_prompt: str, user: str) -> BatchRequest:
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]
        return BatchRequest(custom_id=custom_id, body=BatchRequestBody(model=model, messages=messages))

    def encoder(self, model: str, system_prompt: str) -> RequestEncoder:
        return RequestEncoder(self.request("\x00id", model, system_prompt, "\x00user").model_dump_json())

    def read_request(self, line: bytes) -> RequestLine:
        """Validate one input line; a ``ValidationError`` names what is wrong with it."""
        request = BatchRequest.model_validate_json(line)
        return RequestLine(request.custom_id, request.body.model)

    def read_result(self, line: bytes | str) -> ResultLine:
        """Parse one result line; a ``ValidationError`` means it is not a result line at all."""
        result = BatchResult.model_validate_json(line)
        if result.response is None:
            error = result.error
            return ResultLine(
                result.custom_id, None, None, error.code if error else None, error.message if error else None
            )
        body = result.response.body
        usage = _object(body.get("usage"))
        tokens = (_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")))
        if result.response.status_code != 200:
            message = _object(body.get("error")).get("message")
            return ResultLine(result.custom_id, result.response.status_code, None, None, message, *tokens)
        return ResultLine(result.custom_id, 200, _reply(body), None, None, *tokens)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _reply(body: dict[str, Any]) -> Reply:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Reply(None, None, None, "no_choices: the reply has no choices")
    choice = choices[0]
    message = _object(choice.get("message"))
    content = message.get("content")
    refusal = message.get("refusal")
    return Reply(
        content if isinstance(content, str) else None,
        str(refusal) if refusal else None,
        choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None,
    )


class RequestEncoder:
    """Serialises request lines without building a model per line.

    Everything but the custom_id and the user message is the same on every line,
    so it is encoded once, and the two strings are escaped by orjson, several times
    faster than the standard library on transcript-sized text (prepare's largest
    cost after the scan). The output equals ``ChatCompletions().request(...).model_dump_json()``
    (a test holds it to that).
    """

    def __init__(self, template: str) -> None:
        head, rest = template.split(json.dumps("\x00id"), 1)
        middle, tail = rest.split(json.dumps("\x00user"), 1)
        self._head, self._middle, self._tail = head.encode(), middle.encode(), f"{tail}\n".encode()

    def encode(self, custom_id: str, user: str) -> bytes:
        return b"".join((self._head, orjson.dumps(custom_id), self._middle, orjson.dumps(user), self._tail))


WIRE = ChatCompletions()
"""The wire format in use."""
