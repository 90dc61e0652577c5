"""Calls that must take effect once, and how long to wait between attempts."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

from tagging_assets.core.errors import BatchError
from tagging_assets.core.retry_policy import retry_delay_seconds


def unknown_outcome() -> tuple[type[Exception], ...]:
    """Failures after which the server may or may not have acted, in each SDK loaded: a client of one SDK never
    raises the other's, and looking them up here spares a command that uses one the second's import (a second
    at start, for Anthropic's)."""
    found: list[type[Exception]] = []
    for name in ("openai", "anthropic"):
        sdk = sys.modules.get(name)
        if sdk is not None:
            found += [sdk.APIConnectionError, sdk.RateLimitError, sdk.InternalServerError]
    return tuple(found)


def left_outcome_unknown(error: BaseException) -> bool:
    """Whether the server may or may not have acted on a call that failed with ``error``: one of
    ``unknown_outcome()``, or, from google-genai, which raises one ``APIError`` type for every status and lets
    httpx's errors through, a 429 or 5xx ``APIError`` or a transport error (a dropped connection, a timeout)."""
    if isinstance(error, unknown_outcome()):
        return True
    genai_errors = sys.modules.get("google.genai.errors")
    if genai_errors is not None and isinstance(error, genai_errors.APIError):
        return error.code == 429 or error.code >= 500
    transport = tuple(sdk.TransportError for sdk in map(sys.modules.get, ("httpx", "httpx2")) if sdk is not None)
    return isinstance(error, transport)


ATTEMPTS = 6

_T = TypeVar("_T")


def backoff(attempt: int, error: BaseException | None) -> float:
    """Seconds to wait: the server's Retry-After when it gave one, or the ``retryDelay`` of a Google error body
    (Gemini sends no header), else exponential from half a second."""
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "headers"):
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), 60.0)
    details = getattr(error, "details", None)
    google_error = details.get("error") if isinstance(details, dict) else None
    delay = retry_delay_seconds(google_error) if isinstance(google_error, dict) else None
    if delay is not None:
        return min(delay, 60.0)
    return min(0.5 * 2**attempt, 8.0)


def write_once(
    write: Callable[[], _T],
    find: Callable[[], _T | None],
    *,
    what: str,
    attempts: int = ATTEMPTS,
    describe: Callable[[BaseException], str] = str,
) -> _T:
    """Make a call that must take effect once. When it fails in a way that leaves its outcome unknown
    (the connection dropped, a 5xx, a 429), look for its effect before trying again, so a response lost
    on the way back never becomes a second upload or a second, billed batch. ``describe`` is the provider's
    line for its SDK's error, so the last one reads as every other failure of that API does."""
    error: BaseException | None = None
    for attempt in range(attempts):
        try:
            return write()
        except Exception as failure:
            if not left_outcome_unknown(failure):
                raise
            error = failure
        found = find()
        if found is not None:
            return found
        time.sleep(backoff(attempt, error))
    raise BatchError(f"{what} failed {attempts} times; the last error: {describe(error) if error else 'none'}")
