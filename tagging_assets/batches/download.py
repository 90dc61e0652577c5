"""Streaming a response body to disk, whichever SDK opened it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import httpx2

from tagging_assets.batches.retries import ATTEMPTS, backoff, unknown_outcome
from tagging_assets.core.errors import BatchError


class StreamedResponse(Protocol):
    """A streamed body, as either SDK's ``with_streaming_response`` gives it."""

    def iter_bytes(self) -> Iterator[bytes]: ...


def stream_to_file(
    open_response: Callable[[], AbstractContextManager[StreamedResponse]],
    target: Path,
    *,
    what: str,
    attempts: int = ATTEMPTS,
) -> None:
    """Stream a response body to disk, starting over if the connection drops mid-body (which the SDK's
    retries cannot cover once a streamed response has begun); the file appears only when complete."""
    partial = target.with_name(target.name + ".partial")
    retried: tuple[type[Exception], ...] = (*unknown_outcome(), httpx2.TransportError)
    error: Exception | None = None
    for attempt in range(attempts):
        try:
            with open_response() as response, partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            partial.replace(target)
            return
        except retried as failure:
            error = failure
        time.sleep(backoff(attempt, error))
    raise BatchError(f"downloading {what} failed {attempts} times; the last error: {error}")
