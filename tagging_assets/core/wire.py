"""The one seam that knows what goes over the wire: a Batch API input line and a result line.

Everything else in the package speaks in ``RequestOptions``, ``RequestLine``, ``ResultLine``
and ``Reply``: selection, sharding, write-back, the checks and the Dagster layer never look
inside a request body or a reply. Two endpoints of the OpenAI Batch API are spoken here,
``/v1/chat/completions`` and ``/v1/responses``; another endpoint or provider is another
builder here and a reader beside ``_chat_reply``. What a model accepts comes from its
profile (``core/models.py``), as ``RequestOptions``; this module only spells them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Protocol

import orjson
from pydantic import BaseModel, Field, TypeAdapter

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS, NO_USAGE, TAG_PATTERN, Endpoint, TokenUsage
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import RequestOptions

CHAT_COMPLETIONS: Final = "/v1/chat/completions"
RESPONSES: Final = "/v1/responses"
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


class ChatCompletionBody(BaseModel):
    """The chat completion a batch line asks for. ``max_tokens`` is never sent: it is deprecated, and the
    reasoning models refuse it."""

    model: str = Field(min_length=1)
    messages: list[dict[str, str]] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    reasoning_effort: str | None = None
    response_format: dict[str, Any] = Field(default_factory=tagging_response_format)


class ChatCompletionRequest(BaseModel):
    """One line of a Batch API input file for ``/v1/chat/completions``."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/chat/completions"] = CHAT_COMPLETIONS
    body: ChatCompletionBody


class ResponsesBody(BaseModel):
    """The response a batch line asks for: the system prompt as ``instructions``, the effort under ``reasoning``,
    the schema under ``text.format``."""

    model: str = Field(min_length=1)
    instructions: str | None = None
    input: list[dict[str, str]] | str = Field(min_length=1)
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    reasoning: dict[str, str] | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": tagging_text_format()})


class ResponsesRequest(BaseModel):
    """One line of a Batch API input file for ``/v1/responses``."""

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"] = "POST"
    url: Literal["/v1/responses"] = RESPONSES
    body: ResponsesBody


_ANY_REQUEST: TypeAdapter[ChatCompletionRequest | ResponsesRequest] = TypeAdapter(
    Annotated[ChatCompletionRequest | ResponsesRequest, Field(discriminator="url")]
)


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
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful HTTP exchange's reply, as far as tagging cares."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    """``stop``; ``length`` when the output limit cut it short (reasoning included); or the API's other reason."""
    problem: str | None = None
    """Why the body holds no reply at all (``no_choices: ...``), else None."""
    model: str | None = None
    """The model snapshot that answered, as the reply names it."""


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One line of a result file: an HTTP status and its reply, or a failure that never reached HTTP."""

    custom_id: str
    status_code: int | None
    reply: Reply | None
    error_code: str | None
    error_message: str | None
    usage: TokenUsage = NO_USAGE


class RequestBuilder(Protocol):
    """What each endpoint's seam offers the rest of the pipeline."""

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel: ...


class ChatCompletions:
    """Requests of ``/v1/chat/completions`` in Batch API files."""

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]
        body = ChatCompletionBody(
            model=options.model,
            messages=messages,
            max_completion_tokens=options.max_output_tokens,
            temperature=options.temperature,
            reasoning_effort=options.reasoning_effort,
        )
        return ChatCompletionRequest(custom_id=custom_id, body=body)


class Responses:
    """Requests of ``/v1/responses`` in Batch API files."""

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        body = ResponsesBody(
            model=options.model,
            instructions=system_prompt,
            input=[{"role": "user", "content": user}],
            max_output_tokens=options.max_output_tokens,
            temperature=options.temperature,
            reasoning={"effort": options.reasoning_effort} if options.reasoning_effort else None,
        )
        return ResponsesRequest(custom_id=custom_id, body=body)


BUILDERS: dict[str, RequestBuilder] = {CHAT_COMPLETIONS: ChatCompletions(), RESPONSES: Responses()}


def builder_for(endpoint: str) -> RequestBuilder:
    """The seam for one endpoint; TAGGING_ENDPOINT names it."""
    try:
        return BUILDERS[endpoint]
    except KeyError:
        raise ConfigError(
            f"invalid configuration: TAGGING_ENDPOINT={endpoint}: expected one of {', '.join(BUILDERS)}"
        ) from None


def encoder(endpoint: str, options: RequestOptions, system_prompt: str) -> RequestEncoder:
    """A fast encoder of request lines for one endpoint and one set of options."""
    template = builder_for(endpoint).request("\x00id", options, system_prompt, "\x00user")
    return RequestEncoder(template.model_dump_json(exclude_none=True))


def read_request(line: bytes) -> RequestLine:
    """Validate one input line of either endpoint; a ``ValidationError`` names what is wrong with it."""
    request = _ANY_REQUEST.validate_json(line)
    return RequestLine(request.custom_id, request.body.model, request.url)


def read_result(line: bytes | str) -> ResultLine:
    """Parse one result line of either endpoint; a ``ValidationError`` means it is not a result line at all."""
    result = BatchResult.model_validate_json(line)
    if result.response is None:
        error = result.error
        return ResultLine(result.custom_id, None, None, error.code if error else None, error.message if error else None)
    body = result.response.body
    usage = _usage(_object(body.get("usage")))
    if result.response.status_code != 200:
        message = _object(body.get("error")).get("message")
        return ResultLine(result.custom_id, result.response.status_code, None, None, message, usage)
    reply = _response_reply(body) if body.get("object") == "response" else _chat_reply(body)
    return ResultLine(result.custom_id, 200, reply, None, None, usage)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _usage(usage: dict[str, Any]) -> TokenUsage:
    """Either endpoint's usage: Chat Completions' prompt/completion tokens, or Responses' input/output tokens."""
    if "input_tokens" in usage or "output_tokens" in usage:
        input_details, output_details = usage.get("input_tokens_details"), usage.get("output_tokens_details")
        input_tokens, output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    else:
        input_details, output_details = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
        input_tokens, output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return TokenUsage(
        input_tokens=_int(input_tokens),
        output_tokens=_int(output_tokens),
        cached_tokens=_int(_object(input_details).get("cached_tokens")),
        reasoning_tokens=_int(_object(output_details).get("reasoning_tokens")),
    )


def _chat_reply(body: dict[str, Any]) -> Reply:
    model = _text(body.get("model"))
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Reply(None, None, None, "no_choices: the reply has no choices", model)
    choice = choices[0]
    message = _object(choice.get("message"))
    refusal = message.get("refusal")
    finish_reason = _text(choice.get("finish_reason"))
    return Reply(_text(message.get("content")), str(refusal) if refusal else None, finish_reason, None, model)


def _response_reply(body: dict[str, Any]) -> Reply:
    """A response's reply: the text of its ``message`` items (a reasoning model puts a ``reasoning`` item
    first), a refusal, and why it is ``incomplete`` when it is."""
    model = _text(body.get("model"))
    status = body.get("status")
    if status == "failed":
        error = _object(body.get("error"))
        return Reply(None, None, None, f"response_failed: {error.get('message') or error.get('code') or status}", model)
    texts: list[str] = []
    refusal = None
    items = body.get("output")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        parts = item.get("content")
        for part in parts if isinstance(parts, list) else []:
            part = _object(part)
            if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "refusal" and part.get("refusal"):
                refusal = str(part["refusal"])
    finish_reason = _text(status)
    if status == "completed":
        finish_reason = "stop"
    elif status == "incomplete":
        reason = _object(body.get("incomplete_details")).get("reason")
        finish_reason = "length" if reason == "max_output_tokens" else _text(reason) or "incomplete"
    return Reply("".join(texts) if texts else None, refusal, finish_reason, None, model)


class RequestEncoder:
    """Serialises request lines without building a model per line.

    Everything but the custom_id and the user message is the same on every line,
    so it is encoded once, and the two strings are escaped by orjson, several times
    faster than the standard library on transcript-sized text (prepare's largest
    cost after the scan). The output equals the builder's ``request(...).model_dump_json(exclude_none=True)``
    (a test holds it to that).
    """

    def __init__(self, template: str) -> None:
        head, rest = template.split(json.dumps("\x00id"), 1)
        middle, tail = rest.split(json.dumps("\x00user"), 1)
        self._head, self._middle, self._tail = head.encode(), middle.encode(), f"{tail}\n".encode()

    def encode(self, custom_id: str, user: str) -> bytes:
        return b"".join((self._head, orjson.dumps(custom_id), self._middle, orjson.dumps(user), self._tail))
