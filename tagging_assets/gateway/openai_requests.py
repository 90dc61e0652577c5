"""OpenAI's request rules for a chat completion and a response: a valid request read into a ``TaggingRequest``,
or the ``(status, error)`` OpenAI answers it with."""

from __future__ import annotations

from typing import Any

from tagging_assets.gateway.models import (
    TaggingRequest,
    error_body,
    missing_parameter,
    model_not_found,
    reasoning_problem,
    service_tier_problem,
    snapshot_of,
)
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tokens import user_text


def read_chat(body: Any, faults: FaultSettings) -> TaggingRequest | tuple[int, dict[str, Any]]:
    """A chat completion request, or the error OpenAI answers it with."""
    if not isinstance(body, dict):
        return 400, error_body("The request body must be a JSON object.", "invalid_request_error")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return 400, error_body("you must provide a model parameter", "invalid_request_error", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, missing_parameter("messages")
    if not all(isinstance(message, dict) and "role" in message for message in messages):
        return 400, error_body("Each message must be an object with a 'role'.", "invalid_request_error", "messages")
    response_format = body.get("response_format")
    if response_format is not None and (
        not isinstance(response_format, dict)
        or response_format.get("type") not in ("text", "json_object", "json_schema")
    ):
        return 400, error_body(
            "Invalid value for 'response_format.type'.", "invalid_request_error", "response_format.type"
        )
    schema = None
    if response_format and response_format["type"] == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            return 400, missing_parameter("response_format.json_schema.schema")
    model = faults.model_behind(requested := model)
    snapshot = snapshot_of(model)
    if snapshot is None or faults.retired(model):
        return 404, model_not_found(requested)
    effort = body.get("reasoning_effort")
    tier = body.get("service_tier")
    problem = reasoning_problem(
        model, effort, "reasoning_effort", body.get("temperature"), body.get("max_tokens")
    ) or service_tier_problem(model, tier)
    if problem is not None:
        return 400, problem
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    return TaggingRequest(
        model,
        snapshot,
        user_text(body),
        schema,
        limit if isinstance(limit, int) else None,
        effort,
        service_tier=tier,
    )


_MOVED_IN_RESPONSES = {
    "reasoning_effort": "reasoning.effort",
    "response_format": "text.format",
    "max_tokens": "max_output_tokens",
    "max_completion_tokens": "max_output_tokens",
}
"""Chat Completions parameters the Responses API refuses, and where each lives there."""
MIN_OUTPUT_TOKENS = 16


def read_responses(body: Any, faults: FaultSettings) -> TaggingRequest | tuple[int, dict[str, Any]]:
    """A response request, or the error OpenAI answers it with."""
    if not isinstance(body, dict):
        return 400, error_body("The request body must be a JSON object.", "invalid_request_error")
    for param, moved in _MOVED_IN_RESPONSES.items():
        if param in body:
            return 400, error_body(
                f"Unsupported parameter: '{param}'. In the Responses API, this parameter has moved to '{moved}'. "
                "Try again with the new parameter. See the API documentation for more information: "
                "https://platform.openai.com/docs/api-reference/responses/create.",
                "invalid_request_error",
                None,
                "unsupported_parameter",
            )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return 400, missing_parameter("model")
    items = body.get("input")
    if not (isinstance(items, str) and items) and not (
        isinstance(items, list) and items and all(isinstance(item, dict) for item in items)
    ):
        return 400, missing_parameter("input")
    text_format = _object(_object(body.get("text")).get("format"))
    schema = None
    if text_format.get("type") == "json_schema":
        for field in ("name", "schema"):
            if not text_format.get(field):
                return 400, missing_parameter(f"text.format.{field}")
        schema = text_format["schema"]
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < MIN_OUTPUT_TOKENS):
        return 400, error_body(
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= {MIN_OUTPUT_TOKENS}, "
            f"but got {limit} instead.",
            "invalid_request_error",
            "max_output_tokens",
            "integer_below_min_value",
        )
    model = faults.model_behind(requested := model)
    snapshot = snapshot_of(model)
    if snapshot is None or faults.retired(model):
        return 404, model_not_found(requested)
    effort = _object(body.get("reasoning")).get("effort")
    tier = body.get("service_tier")
    problem = reasoning_problem(model, effort, "reasoning.effort", body.get("temperature"), None) or (
        service_tier_problem(model, tier)
    )
    if problem is not None:
        return 400, problem
    return TaggingRequest(model, snapshot, user_text(body), schema, limit, effort, service_tier=tier)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
