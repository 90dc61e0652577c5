"""What every protocol of the gateway reads and answers with: errors in each API's shape, JSON bodies and
replies, query integers, pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from tagging_assets.gateway.gemini import google_error
from tagging_assets.gateway.messages import anthropic_error, error_kind
from tagging_assets.gateway.models import error_body


class ApiError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, kind or "invalid_request_error", param, code)


class AnthropicApiError(ApiError):
    """An error answered in Anthropic's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.body = anthropic_error(error_kind(status), message)


class GeminiApiError(ApiError):
    """An error answered in Google's shape, its status named from the code unless given."""

    def __init__(self, status: int, message: str, status_name: str | None = None) -> None:
        super().__init__(status, message)
        self.body = google_error(status, message, status_name)


async def json_body(request: Request) -> dict[str, Any]:
    """A request's JSON object, or OpenAI's 400 for a body that is not one."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


async def gemini_json_body(request: Request) -> dict[str, Any]:
    """A request's JSON object, or Google's 400 for a body that is not one."""
    try:
        body = await request.json()
    except ValueError:
        raise GeminiApiError(400, "Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(body, dict):
        raise GeminiApiError(400, "Invalid JSON payload received. Expected an object.")
    return body


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers=headers)


def int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for '{name}': expected an integer.", name, "invalid_value") from None
    if not low <= value <= high:
        raise ApiError(400, f"Invalid value for '{name}': must be between {low} and {high}.", name, "invalid_value")
    return value


def page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    data = rows[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(rows) > limit,
    }
