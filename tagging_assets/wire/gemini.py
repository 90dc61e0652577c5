"""Gemini's Batch API (``generateContent``): the request line a shard holds, its builder, and the reader of its
results.

A shard holds each request as a ``{"key", "request"}`` line, the request in Gemini's REST shape (camelCase, as the
JSONL file of a batch takes it raw). The line names no model: a Gemini batch names its model once, when it is
created. Each result line carries the ``key`` back with a ``response`` (a GenerateContentResponse) or an
``error`` (Google's status: ``code``, ``message``, ``status``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.core.thinking import Thinking
from tagging_assets.wire._fields import count_of, object_of, text_of
from tagging_assets.wire.lines import Reply, RequestLine, ResultLine
from tagging_assets.wire.schema import tagging_json_schema

GOOGLE_ERROR_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
"""The HTTP status of each of Google's canonical error codes (google.rpc.Code), for an error that names no usable
HTTP ``code``, so it is retried as a realtime call's status would be."""
RPC_CODES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
"""``google.rpc.Code`` by number: a failed job's ``error`` and a batch result line's ``error`` are
``google.rpc.Status`` values, whose ``code`` is one of these, where Google's HTTP errors carry the name as
``status``."""
REFUSAL_REASONS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"})
"""The finish reasons by which Gemini withheld a reply: tagging reads them as a refusal."""
_FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}


class GenerationConfig(BaseModel):
    """What a request asks of the reply: JSON held to the tagging schema, its output limit (thoughts count
    against it), a temperature where the family takes one, and how much to think."""

    responseMimeType: str = "application/json"
    responseJsonSchema: dict[str, Any] | None = None
    maxOutputTokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    thinkingConfig: dict[str, Any] | None = None


class GeminiRequestBody(BaseModel):
    """A GenerateContentRequest without its model: the user turn, the system prompt, the generation config."""

    contents: list[dict[str, Any]] = Field(min_length=1)
    systemInstruction: dict[str, Any] | None = None
    generationConfig: GenerationConfig | None = None


class GeminiRequest(BaseModel):
    """One line of a Gemini batch's input file; ``key`` comes back on its result line."""

    key: str = Field(min_length=1)
    request: GeminiRequestBody


class GeminiError(BaseModel):
    """Google's error status, as a batch's result line or a realtime call's error body carries it."""

    code: int | None = None
    message: str | None = None
    status: str | None = None


class GeminiResult(BaseModel):
    """One line of a Gemini batch's results: a ``response`` or an ``error``."""

    key: str
    response: dict[str, Any] | None = None
    error: GeminiError | None = None


def thinking_config(thinking: Thinking) -> dict[str, Any]:
    """``generationConfig.thinkingConfig``: a budget for Gemini 2.5, a level (upper case, as the API's enum
    names it) for Gemini 3."""
    if thinking.level is not None:
        return {"thinkingLevel": thinking.level.upper()}
    return {"thinkingBudget": thinking.budget}


class GenerateContent:
    """Requests of Gemini's ``generateContent`` in batch input files. Keys are free strings, so an item's id
    goes out as it is, as at OpenAI."""

    def custom_id(self, item_id: str) -> str:
        return item_id

    def request(self, custom_id: str, options: RequestOptions, system_prompt: str, user: str) -> BaseModel:
        config = GenerationConfig(
            responseJsonSchema=tagging_json_schema(options.allowed_tags),
            maxOutputTokens=options.max_output_tokens,
            temperature=options.temperature,
            thinkingConfig=thinking_config(options.thinking) if options.thinking else None,
        )
        body = GeminiRequestBody(
            contents=[{"role": "user", "parts": [{"text": user}]}],
            systemInstruction={"parts": [{"text": system_prompt}]},
            generationConfig=config,
        )
        return GeminiRequest(key=custom_id, request=body)


def read_gemini_request(line: bytes) -> RequestLine:
    """One request line of a Gemini shard; a ``ValidationError`` names what is wrong with it. Its model is empty:
    the line names none, the shard (and the batch) does."""
    request = GeminiRequest.model_validate_json(line)
    return RequestLine(request.key, "", GENERATE_CONTENT)


def read_gemini_result(line: bytes | str) -> ResultLine:
    """A Gemini result: an ``error`` is one failed item under its HTTP status (one without any, such as a
    realtime call's ``connection_error``, as a failure that never reached HTTP); a ``response`` is read for its
    reply, usage and model."""
    result = GeminiResult.model_validate_json(line)
    if result.response is None:
        error = result.error or GeminiError(message="the result line holds neither a response nor an error")
        kind = error.status or RPC_CODES.get(error.code or 0) or "UNKNOWN"
        return ResultLine(result.key, error_status(error), None, kind, error.message or "no message")
    body = result.response
    return ResultLine(result.key, 200, gemini_reply(body), None, None, gemini_usage(body))


def error_status(error: GeminiError) -> int | None:
    """The HTTP status of a Google error: its ``code`` where that is one; else its ``status`` name's, or the name
    of its ``google.rpc.Code`` (a batch's result line carries a ``google.rpc.Status``, ``{"code": 13, "message"}``);
    None for neither (an error that never reached HTTP)."""
    if error.code is not None and 400 <= error.code <= 599:
        return error.code
    if error.status is None and error.code is not None:
        return GOOGLE_ERROR_STATUS.get(RPC_CODES.get(error.code, ""))
    return GOOGLE_ERROR_STATUS.get(error.status or "")


def gemini_usage(body: dict[str, Any]) -> TokenUsage:
    """A response's ``usageMetadata``: the prompt count includes cached tokens, and thoughts are billed as
    output, so they are added to it and also counted on their own."""
    usage = object_of(body.get("usageMetadata"))
    thoughts = count_of(usage.get("thoughtsTokenCount"))
    return TokenUsage(
        input_tokens=count_of(usage.get("promptTokenCount")),
        output_tokens=count_of(usage.get("candidatesTokenCount")) + thoughts,
        cached_tokens=count_of(usage.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def gemini_reply(body: dict[str, Any]) -> Reply:
    """A response's reply: the first candidate's text parts, thoughts left out; a safety or recitation stop,
    or a prompt blocked before any candidate, as a refusal naming why."""
    model = text_of(body.get("modelVersion"))
    candidates = body.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        blocked = text_of(object_of(body.get("promptFeedback")).get("blockReason"))
        if blocked:
            return Reply(None, f"Gemini blocked the prompt (blockReason {blocked})", "refusal", None, model)
        return Reply(None, None, None, "no_candidates: the response holds no candidate", model)
    candidate = object_of(candidates[0])
    texts = [
        part["text"]
        for part in _parts(candidate)
        if isinstance(part.get("text"), str) and part.get("thought") is not True
    ]
    text = "".join(texts) if texts else None
    reason = text_of(candidate.get("finishReason"))
    if reason in REFUSAL_REASONS:
        return Reply(None, f"Gemini withheld the reply (finishReason {reason})", "refusal", None, model)
    return Reply(text, None, _FINISH_REASONS.get(reason or "", reason), None, model)


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    parts = object_of(candidate.get("content")).get("parts")
    return [object_of(part) for part in parts] if isinstance(parts, list) else []
