"""What the realtime executor (``executor.py``) and its callers exchange: a request line to send, the answer it
got, the limits and clocks a run keeps to, the files it writes and the report it gives.

Like the executor, it imports only the standard library, so that the pipeline and the gateway share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RealtimeRequest:
    custom_id: str
    line: bytes
    """The request line as the file holds it (the caller parses it)."""
    rate_tokens: int
    """What it counts against a tokens-per-minute limit: OpenAI counts max(max_tokens, a character estimate of the
    input) at admission, not the tokens used (§1), so the caller computes it."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status_code: int
    body: bytes
    headers: Mapping[str, str]
    """Header names lower-cased."""
    request_id: str | None = None

    @classmethod
    def of(cls, response: HttpResponse, request_id: str | None) -> HttpAnswer:
        """An HTTP client's response (the SDKs' httpx responses) as the executor reads it."""
        headers = {name.lower(): value for name, value in response.headers.items()}
        return cls(status_code=response.status_code, body=response.content, headers=headers, request_id=request_id)


class _Headers(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


class HttpResponse(Protocol):
    """What ``HttpAnswer.of`` reads of a response."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> _Headers: ...


class ConnectionLost(Exception):
    """Raised by a send when no HTTP answer arrived: connection refused or cut, or timed out."""


Send = Callable[[RealtimeRequest], HttpAnswer]
"""Called from worker threads, so it must be thread-safe (the SDKs' sync clients are)."""


class ResultLines(Protocol):
    """How the provider's Batch API writes a result line; the executor never looks inside bodies except to classify
    errors."""

    def answered(self, request: RealtimeRequest, answer: HttpAnswer) -> tuple[bytes, bool]:
        """The line (without newline) for a final HTTP answer, and whether it belongs in the errors file."""
        ...

    def unanswered(self, request: RealtimeRequest, *, code: str, message: str) -> bytes:
        """The errors-file line for a request that got no final HTTP answer."""
        ...

    def custom_id_of(self, line: bytes) -> str:
        """A written line's custom_id, read back when a run resumes."""
        ...


@dataclass(frozen=True, kw_only=True)
class Limits:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrency: int = 16
    max_retries: int = 8
    """For 5xx, 408/409, connection lost. A 429 that names no wait (flex's "resource unavailable") gets four times as
    many before it counts as endless; one that names its wait is obeyed however often it comes."""
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.max_retries < 0:
            raise ValueError("max_concurrency must be at least 1 and max_retries at least 0")
        if any(limit is not None and limit < 1 for limit in (self.requests_per_minute, self.tokens_per_minute)):
            raise ValueError("a per-minute limit must be at least 1, or None for no limit")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Injectable so that tests see what the executor waited without waiting. ``wall_clock`` turns absolute times
    (Anthropic's RFC 3339 resets, an HTTP-date ``retry-after``) into waits."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = _utc_now


REAL_TIME = Timing()
"""The clocks of a run outside tests."""


@dataclass(frozen=True, kw_only=True)
class JobFiles:
    output: Path
    errors: Path
    journal: Path
    """custom_ids sent, written before each first send: what a killed run had in flight."""


@dataclass(frozen=True)
class ExecutorReport:
    requests: int
    """Lines in the input."""
    answered_before: int
    """Already answered on disk when the run started (not sent again)."""
    sent: int
    """Requests this run sent (first attempts)."""
    succeeded: int
    """Answered in this run into the output file."""
    failed: int
    """Answered in this run into the errors file."""
    resent_after_crash: int
    """In the journal from an earlier run but unanswered, and sent again: at most that run's requests in flight
    (a request refused for insufficient_quota counts here on the next run too: it was sent and got no line)."""
    retries: int
    """Attempts beyond the first."""
    rate_limited: int
    """429s obeyed (waited out, then retried)."""
    waited_seconds: float
    """The waits that retry-after headers and backoff asked for, summed (concurrent waits overlap)."""
    stopped: str | None
    """One line saying why the run stopped before every line was answered, and what to do; None if it did not."""

    @property
    def unanswered(self) -> int:
        return self.requests - self.answered_before - self.succeeded - self.failed
