"""Gemini's generateContent as the gateway speaks it: a request read and checked as the Developer API checks it,
a ``GenerateContentResponse`` built, and errors in Google's shape.

The work behind it is the same tagger as behind a chat completion (``completions.complete``); this module only
knows Gemini's request and reply formats, so that the official ``google-genai`` SDK talks to the gateway as it
talks to the real API. The rules are written from the SDK's converters (google-genai 3.6.1, ``models.py``
``_GenerateContentConfig_to_mldev``) and the thinking guide (ai.google.dev/gemini-api/docs/thinking), and are no
laxer than the real API where the two are known to agree.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from tagging_assets.gateway.models import TaggingRequest
from tagging_assets.gateway.replies import Reply
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tokens import parts_text


@dataclass(frozen=True)
class GeminiModel:
    """What a Gemini model takes in ``thinkingConfig``, per the thinking guide: a ``thinkingBudget`` range, whether
    0 turns thinking off, and the ``thinkingLevel`` values (Gemini 3 only); and the most ``maxOutputTokens`` it
    accepts (its model card's output token limit)."""

    budgets: tuple[int, int] | None
    can_stop_thinking: bool
    levels: tuple[str, ...] = ()
    max_output_tokens: int = 65_536


GEMINI_MODELS = {
    "gemini-2.5-pro": GeminiModel((128, 32768), can_stop_thinking=False),
    "gemini-2.5-flash": GeminiModel((1, 24576), can_stop_thinking=True),
    "gemini-2.5-flash-lite": GeminiModel((512, 24576), can_stop_thinking=True),
    "gemini-3-flash-preview": GeminiModel((1, 24576), True, ("MINIMAL", "LOW", "MEDIUM", "HIGH")),
    "gemini-2.0-flash": GeminiModel(None, can_stop_thinking=True, max_output_tokens=8_192),
}
"""The models served and their documented thinking budgets: 2.5 Pro 128..32768 and never off; 2.5 Flash 0..24576;
2.5 Flash-Lite 512..24576 or 0; -1 (dynamic) on every 2.5 model; Gemini 3 takes ``thinkingLevel`` (and a budget,
for backward compatibility, but never both); 2.0 Flash does not think. Output: 65,536 tokens on 2.5 and 3, 8,192
on 2.0 Flash."""
THINKING_TOKENS = {"MINIMAL": 0, "LOW": 64, "MEDIUM": 128, "HIGH": 256}
"""The thoughts a tagging request takes at each level; dynamic thinking (no budget, or -1) thinks as HIGH, and a
budget caps it."""
STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
REQUEST_FIELDS = frozenset(
    {
        "model",
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "safetySettings",
        "generationConfig",
        "cachedContent",
        "serviceTier",
    }
)
"""``GenerateContentRequest``'s fields in the Developer API; proto JSON takes each in snake_case too."""
GENERATION_FIELDS = frozenset(
    {
        "stopSequences",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "responseModalities",
        "candidateCount",
        "maxOutputTokens",
        "temperature",
        "topP",
        "topK",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
        "thinkingConfig",
        "mediaResolution",
        "speechConfig",
        "imageConfig",
        "enableEnhancedCivicAnswers",
    }
)
THINKING_FIELDS = frozenset({"thinkingBudget", "thinkingLevel", "includeThoughts"})
SERVICE_TIERS = ("unspecified", "standard", "flex", "priority")
"""``serviceTier`` as google-genai sends it (``types.ServiceTier``); proto enums take any case here."""


class GeminiRefusal(Exception):
    """A request Gemini refuses, with the HTTP status and message it answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def google_error(code: int, message: str, status: str | None = None, **extra: Any) -> dict[str, Any]:
    """An error in Google's shape: ``{"error": {"code", "message", "status"}}``, the status named from the code
    unless given (a FAILED_PRECONDITION is a 400 too)."""
    name = status or STATUSES.get(code, "INTERNAL" if code >= 500 else "INVALID_ARGUMENT")
    return {"error": {"code": code, "message": message, "status": name, **extra}}


def as_google_error(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Any error the tagger's side answered (an injected fault, a failure inside the gateway), in Google's
    shape, its message kept."""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("status"), str):
        return body
    message = str(error.get("message") if isinstance(error, dict) else "") or "Internal error encountered."
    return google_error(status, message)


def served_model(name: str) -> str | None:
    """The served model a path or request names (``models/gemini-2.5-flash`` or the bare name), or None."""
    model = name.removeprefix("models/")
    return model if model in GEMINI_MODELS else None


def model_not_found(name: str, method: str, version: str = "v1") -> GeminiRefusal:
    return GeminiRefusal(
        404,
        f"models/{name.removeprefix('models/')} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported methods.",
    )


def output_limit_refusal(asked: int, most: int) -> str:
    """Google's words for a ``maxOutputTokens`` over the model's maximum, as quoted from Vertex AI's Gemini
    (BerriAI/litellm#10548); the Developer API's own wording is not sourced."""
    return (
        f"Unable to submit request because it has a maxOutputTokens value of {asked} but the supported range is "
        f"from 1 (inclusive) to {most + 1} (exclusive). Update the value and try again."
    )


def read_generate_content(body: Any, model: str, faults: FaultSettings) -> TaggingRequest:
    """A valid generateContent request for ``model``, or the ``GeminiRefusal`` Gemini answers it with."""
    if not isinstance(body, dict):
        raise GeminiRefusal(400, "Invalid JSON payload received. Expected an object.")
    request = _camel_keys(body, REQUEST_FIELDS, "")
    if faults.retired(model):
        raise model_not_found(model, "generateContent")
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        raise GeminiRefusal(400, "* GenerateContentRequest.contents: contents is not specified\n")
    for number, content in enumerate(contents):
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list) or not content["parts"]:
            raise GeminiRefusal(
                400, f"* GenerateContentRequest.contents[{number}].parts: contents.parts must not be empty.\n"
            )
        if content.get("role", "user") not in ("user", "model"):
            raise GeminiRefusal(400, f"Please use a valid role: user, model. Got {content['role']!r}.")
    generation = _camel_keys(request.get("generationConfig") or {}, GENERATION_FIELDS, "generation_config")
    schema = _schema(generation)
    limit = generation.get("maxOutputTokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise GeminiRefusal(400, "* GenerateContentRequest.generation_config.max_output_tokens: must be positive\n")
    if limit is not None and limit > (most := GEMINI_MODELS[model].max_output_tokens):
        raise GeminiRefusal(400, output_limit_refusal(limit, most))
    thinking = _thinking(model, generation.get("thinkingConfig"))
    tier = str(request.get("serviceTier") or "unspecified").lower()
    if tier not in SERVICE_TIERS:
        raise GeminiRefusal(400, f"Invalid value at 'service_tier', \"{request['serviceTier']}\"")
    text = "\n\n".join(
        parts_text(content)
        for content in contents
        if isinstance(content, dict) and content.get("role", "user") == "user"
    )
    return TaggingRequest(model, model, text, schema, limit, thinking, None, "flex" if tier == "flex" else None)


def _camel_keys(fields: Any, known: frozenset[str], where: str) -> dict[str, Any]:
    """``fields`` with snake_case names in camelCase, as proto JSON reads both; an unknown name is the 400 Google
    answers for it."""
    if not isinstance(fields, dict):
        raise GeminiRefusal(400, f"Invalid JSON payload received. Invalid value at '{where}': expected an object.")
    named: dict[str, Any] = {}
    for name, value in fields.items():
        camel = re.sub(r"_([a-z])", lambda match: match.group(1).upper(), name)
        if camel not in known:
            at = f" at '{where}'" if where else ""
            raise GeminiRefusal(400, f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.')
        named[camel] = value
    return named


def _schema(generation: dict[str, Any]) -> dict[str, Any] | None:
    """The schema the reply must follow: ``responseJsonSchema`` (JSON Schema) or ``responseSchema`` (Google's
    OpenAPI subset, its upper-case types read as JSON Schema's), either one only with JSON output."""
    json_schema, open_schema = generation.get("responseJsonSchema"), generation.get("responseSchema")
    if json_schema is None and open_schema is None:
        return None
    if json_schema is not None and open_schema is not None:
        raise GeminiRefusal(400, "responseSchema and responseJsonSchema cannot both be set.")
    if generation.get("responseMimeType") != "application/json":
        raise GeminiRefusal(
            400,
            "* GenerateContentRequest.generation_config.response_schema: a response schema needs "
            "response_mime_type application/json.\n",
        )
    schema = json_schema if json_schema is not None else open_schema
    if not isinstance(schema, dict):
        raise GeminiRefusal(400, "Invalid JSON payload received. The response schema must be an object.")
    return _lower_types(schema)


def _lower_types(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_lower_types(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: value.lower() if key == "type" and isinstance(value, str) else _lower_types(value)
        for key, value in schema.items()
    }


def _thinking(model: str, config: Any) -> str:
    """The thinking a request asks for, as ``thinking_tokens`` reads it: a budget's number or a level's name;
    a budget or a level the model does not take is Gemini's 400."""
    rules = GEMINI_MODELS[model]
    thinking = _camel_keys(config or {}, THINKING_FIELDS, "generation_config.thinking_config")
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        raise GeminiRefusal(400, "You can only set only one of thinking budget and thinking level.")
    if level is not None:
        if str(level).upper() not in rules.levels:
            raise GeminiRefusal(400, f"Thinking level {level} is not supported for this model.")
        return str(level).upper()
    if budget is None or budget == -1:
        return "HIGH" if rules.budgets is not None else "0"
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise GeminiRefusal(400, "Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32)")
    if rules.budgets is None:
        if budget:
            raise GeminiRefusal(400, "Thinking is not supported for this model.")
        return "0"
    if budget == 0:
        if not rules.can_stop_thinking:
            raise GeminiRefusal(400, "Budget 0 is invalid. This model only works in thinking mode.")
        return "0"
    low, high = rules.budgets
    if not low <= budget <= high:
        raise GeminiRefusal(
            400, f"The thinking budget {budget} is invalid. Please choose a value between {low} and {high}."
        )
    return str(budget)


def thinking_tokens(thinking: str | None) -> int:
    """The thoughts a request takes: a level's, or a budget's up to HIGH's."""
    if thinking is None:
        return 0
    if thinking in THINKING_TOKENS:
        return THINKING_TOKENS[thinking]
    return min(int(thinking), THINKING_TOKENS["HIGH"])


def generate_content_response(key: str, request: TaggingRequest, reply: Reply) -> dict[str, Any]:
    """A ``GenerateContentResponse``: the reply as the one candidate's text, ``finishReason`` STOP, or MAX_TOKENS
    when the output budget (thoughts included, as Gemini counts them) cut it, or SAFETY for a refusal; thoughts
    and cached input counted apart in ``usageMetadata``, as Gemini reports them."""
    usage = reply.usage
    parts = [{"text": reply.content}] if reply.content else []
    finish = "SAFETY" if reply.refusal else "STOP" if reply.finished else "MAX_TOKENS"
    candidates_tokens = usage.output_tokens - usage.reasoning_tokens
    metadata: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": candidates_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cached_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_tokens
    return {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": metadata,
        "modelVersion": request.snapshot,
        "responseId": hashlib.sha256(f"gemini:{key}".encode()).hexdigest()[:22],
    }
