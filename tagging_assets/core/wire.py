"""The one seam that knows what goes over the wire: a Batch API input line and a result line.

Everything else in the package speaks in ``RequestOptions``, ``RequestLine``, ``ResultLine``
and ``Reply``: selection, sharding, write-back, the checks and the Dagster layer never look
inside a request body or a reply. Two endpoints of the OpenAI Batch API are spoken here,
``/v1/chat/completions`` and ``/v1/responses``, and Anthropic's Message Batches (``/v1/messages``,
whose requests a shard holds as ``{"custom_id", "params"}`` lines, sent inline); another endpoint
or provider is another builder here and a reader beside ``_chat_reply``. What a model accepts
comes from its profile (``core/models.py``), as ``RequestOptions``; this module only spells them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Protocol

import orjson
from pydantic import BaseModel, Field, TypeAdapter

from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS, NO_USAGE, TAG_PATTERN, Endpoint, TokenUsage
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import RequestOptions

CHAT_COMPLETIONS: Final = "/v1/chat/completions"
RESPONSES: Final = "/v1/responses"
MESSAGES: Final = "/v1/messages"
SCHEMA_NAME = "video_tags"
MESSAGE_CUSTOM_ID = r"^[a-zA-Z0-9_-]{1,64}$"
"""What Anthropic accepts as a ``custom_id``; ``youtube:ID`` is mapped into it by ``message_custom_id``."""
_KEPT_IN_CUSTOM_ID = re.compile(r"[A-Za-z0-9_]")
_ESCAPED = re.compile(r"-([0-9a-f]{2})")
_HASHED_PREFIX = "h-z"
_ID_PLACEHOLDER = "custom_id_placeholder"
"""Where the encoder's template holds the custom_id: first in every line, and valid for every endpoint."""


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


class MessageParams(BaseModel):
    """The message a Message Batch request asks for: ``max_tokens`` is required, the system prompt is
    ``system``, and the schema is ``output_config.format`` or the input schema of a forced tool."""

    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    system: str | None = None
    messages: list[dict[str, str]] = Field(min_length=1)
    temperature: float | None = None
    output_config: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None


class MessageBatchRequest(BaseModel):
    """One request of an Anthropic Message Batch, as a shard holds it."""

    custom_id: str = Field(pattern=MESSAGE_CUSTOM_ID)
    params: MessageParams


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


class MessageBatchOutcome(BaseModel):
    """A Message Batch request's result: ``succeeded`` carries its ``message``, ``errored`` its ``error``."""

    type: Literal["succeeded", "errored", "canceled", "expired"]
    message: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class MessageBatchResult(BaseModel):
    """One line of a Message Batch's results."""

    custom_id: str
    result: MessageBatchOutcome


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

    def custom_id(self, item_id: str) -> str:
        """The ``custom_id`` an item's request goes out under; the shard's index keeps it."""
        ...


class ChatCompletions:
    """Requests of ``/v1/chat/completions`` in Batch API files."""

    def custom_id(self, item_id: str) -> str:
        return item_id

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

    def custom_id(self, item_id: str) -> str:
        return item_id

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


def message_custom_id(item_id: str) -> str:
    """An item id spelled as Anthropic's ``custom_id`` allows, reversibly: letters, digits and ``_`` stay, and
    each byte of anything else becomes ``-`` and two hex digits (``youtube:dQw4w9WgXcQ`` ->
    ``youtube-3adQw4w9WgXcQ``). An id too long for 64 characters that way goes by its sha256 instead, which
    ``item_id_of`` cannot reverse; the shard's index still maps it to its point."""
    spelled = "".join(
        char if _KEPT_IN_CUSTOM_ID.fullmatch(char) else "".join(f"-{byte:02x}" for byte in char.encode())
        for char in item_id
    )
    if len(spelled) <= 64:
        return spelled
    return _HASHED_PREFIX + hashlib.sha256(item_id.encode()).hexdigest()[:60]


def item_id_of(custom_id: str) -> str | None:
    """The item id a ``custom_id`` spells, for people to read: OpenAI's as they are, a Message Batch's
    reversed; None for a hashed one or one not spelled here."""
    if ":" in custom_id:
        return custom_id
    if custom_id.startswith(_HASHED_PREFIX):
        return None
    spelled = bytearray()
    position = 0
    while position < len(custom_id):
        if custom_id[position] == "-":
            escape = _ESCAPED.match(custom_id, position)
            if escape is None:
                return None
            spelled.append(int(escape.group(1), 16))
            position = escape.end()
        else:
            spelled += custom_id[position].encode()
            position += 1
    try:
        return spelled.decode()
    except UnicodeDecodeError:
        return None


class Messages:
    """Requests of Anthropic's Message Batches: the tagging schema through structured outputs, or as the input
    schema of a forced tool for a model without them. Anthropic's schemas take no ``pattern``, and ``minItems``
    only up to 1; the SDK's ``transform_schema`` moves those into the descriptions, and write-back still holds
    every reply to the full schema."""

    def custom_id(self, item_id: str) -> str:
        return message_custom_id(item_id)

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        from anthropic import transform_schema  # the SDK loads only where Anthropic's requests are made

        schema = transform_schema(tagging_json_schema())
        structured: dict[str, Any] = {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
        if options.json_output == "tool":
            structured = {
                "tools": [{"name": SCHEMA_NAME, "description": "Record the tags and summary.", "input_schema": schema}],
                "tool_choice": {"type": "tool", "name": SCHEMA_NAME, "disable_parallel_tool_use": True},
            }
        params = MessageParams(
            model=options.model,
            max_tokens=options.max_output_tokens,
            system=system_prompt,
            messages=[{"role": "user", "content": user}],
            temperature=options.temperature,
            **structured,
        )
        return MessageBatchRequest(custom_id=custom_id, params=params)


BUILDERS: dict[str, RequestBuilder] = {
    CHAT_COMPLETIONS: ChatCompletions(),
    RESPONSES: Responses(),
    MESSAGES: Messages(),
}


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
    builder = builder_for(endpoint)
    template = builder.request(_ID_PLACEHOLDER, options, system_prompt, "\x00user")
    return RequestEncoder(template.model_dump_json(exclude_none=True), builder.custom_id)


def read_request(line: bytes) -> RequestLine:
    """Validate one input line of any endpoint; a ``ValidationError`` names what is wrong with it. A Message
    Batch request is told apart by its ``params``, which OpenAI's lines (``url`` and ``body``) never have."""
    if b'"params"' in line and b'"url"' not in line:
        message = MessageBatchRequest.model_validate_json(line)
        return RequestLine(message.custom_id, message.params.model, MESSAGES)
    request = _ANY_REQUEST.validate_json(line)
    return RequestLine(request.custom_id, request.body.model, request.url)


def read_result(line: bytes | str) -> ResultLine:
    """Parse one result line of any endpoint; a ``ValidationError`` means it is not a result line at all."""
    raw = line.encode() if isinstance(line, str) else line
    if b'"result"' in raw and b'"response"' not in raw:
        return _message_batch_result(MessageBatchResult.model_validate_json(raw))
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


ANTHROPIC_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status of each of Anthropic's error types, so an errored request is retried as a realtime call's
status would be."""
_STOP_REASONS = {"end_turn": "stop", "tool_use": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def _message_batch_result(result: MessageBatchResult) -> ResultLine:
    """A Message Batch result: ``succeeded`` with its Message, ``errored`` with Anthropic's error type, or a
    request the batch never ran (``canceled``, ``expired``), named as OpenAI's batches name it."""
    outcome = result.result
    if outcome.type in ("canceled", "expired"):
        code = "batch_cancelled" if outcome.type == "canceled" else "batch_expired"
        return ResultLine(result.custom_id, None, None, code, f"the Message Batch {outcome.type} before it ran")
    if outcome.type == "errored":
        error = _object(_object(outcome.error).get("error"))
        kind = _text(error.get("type")) or "api_error"
        message = f"{kind}: {_text(error.get('message')) or 'no message'}"
        return ResultLine(result.custom_id, ANTHROPIC_ERROR_STATUS.get(kind, 500), None, kind, message)
    body = _object(outcome.message)
    usage = _object(body.get("usage"))
    read, written = _int(usage.get("cache_read_input_tokens")), _int(usage.get("cache_creation_input_tokens"))
    tokens = TokenUsage(
        input_tokens=_int(usage.get("input_tokens")) + read + written,
        output_tokens=_int(usage.get("output_tokens")),
        cached_tokens=read,
    )
    return ResultLine(result.custom_id, 200, _message_reply(body), None, None, tokens)


def _message_reply(body: dict[str, Any]) -> Reply:
    """A Message's reply: its text blocks, or the forced tool's input as JSON; a refusal as such."""
    model = _text(body.get("model"))
    texts: list[str] = []
    blocks = body.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        block = _object(block)
        if block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
            texts = [json.dumps(block["input"])]
            break
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
    text = "".join(texts) if texts else None
    stop_reason = _text(body.get("stop_reason"))
    if stop_reason == "refusal":
        return Reply(None, text or "the model declined to answer (stop_reason refusal)", stop_reason, None, model)
    return Reply(text, None, _STOP_REASONS.get(stop_reason or "", stop_reason), None, model)


class RequestEncoder:
    """Serialises request lines without building a model per line.

    Everything but the custom_id and the user message is the same on every line,
    so it is encoded once, and the two strings are escaped by orjson, several times
    faster than the standard library on transcript-sized text (prepare's largest
    cost after the scan). The output equals the builder's ``request(...).model_dump_json(exclude_none=True)``
    (a test holds it to that).
    """

    def __init__(self, template: str, custom_id: Callable[[str], str]) -> None:
        head, rest = template.split(json.dumps(_ID_PLACEHOLDER), 1)
        middle, tail = rest.split(json.dumps("\x00user"), 1)
        self._head, self._middle, self._tail = head.encode(), middle.encode(), f"{tail}\n".encode()
        self.custom_id = custom_id
        """The ``custom_id`` an item's request goes out under, as the endpoint spells it."""

    def encode(self, custom_id: str, user: str) -> bytes:
        return b"".join((self._head, orjson.dumps(custom_id), self._middle, orjson.dumps(user), self._tail))
