"""Parameters the Files and Batch routes share: when a file expires (``expires_after`` and
``output_expires_after``) and a batch's ``metadata``, within OpenAI's and Azure's bounds."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from tagging_assets.gateway.http import ApiError
from tagging_assets.gateway.paths import is_azure

MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
MIN_EXPIRY_SECONDS, MAX_EXPIRY_SECONDS = 3600, 30 * 86_400
"""OpenAI's bounds for ``expires_after`` and ``output_expires_after``: one hour to 30 days."""
AZURE_MIN_EXPIRY_SECONDS = 14 * 86_400
"""Azure's lower bound for both: 14 days (its global-batch limits)."""


def metadata(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_METADATA_PAIRS:
        raise ApiError(400, f"'metadata' must be an object of at most {MAX_METADATA_PAIRS} pairs.", "metadata")
    for key, value in raw.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise ApiError(
                400,
                f"Invalid metadata pair {key[:MAX_METADATA_KEY]!r}: keys hold at most {MAX_METADATA_KEY} characters, "
                f"values are strings of at most {MAX_METADATA_VALUE}.",
                "metadata",
            )
    return raw


def lowest_expiry(request: Request) -> int:
    return AZURE_MIN_EXPIRY_SECONDS if is_azure(request.url.path) else MIN_EXPIRY_SECONDS


def expires_after(anchor: Any, seconds: Any, lowest: int, param: str = "expires_after") -> int | None:
    """Seconds after ``created_at`` at which a file expires, as ``expires_after`` and ``output_expires_after``
    say, within the API's bounds (``lowest`` to 30 days)."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise ApiError(400, f"Invalid value for '{param}.anchor': must be 'created_at'.", param, "invalid_value")
    try:
        value = int(str(seconds))
    except ValueError:
        raise ApiError(400, f"Invalid value for '{param}.seconds'.", param, "invalid_value") from None
    if not lowest <= value <= MAX_EXPIRY_SECONDS:
        raise ApiError(
            400,
            f"Invalid value for '{param}.seconds': must be between {lowest} and {MAX_EXPIRY_SECONDS}.",
            param,
            "invalid_value",
        )
    return value
