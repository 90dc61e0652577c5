"""Pacing realtime calls to the per-minute limits, and reading the rate-limit headers of their answers.

Facts cited as "§1" are from REFERENCE-runmodes.md §1.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tagging_assets.core.realtime_calls import Limits, Timing

_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float | None:
    """OpenAI's ``x-ratelimit-reset-*`` are Go durations (``20ms``, ``6m0s``, ``1m30.5s``; §1); None if not one."""
    parts = list(_GO_DURATION_PART.finditer(text.strip()))
    if not parts or "".join(part.group(0) for part in parts) != text.strip():
        return None
    return sum(float(number) * _GO_UNIT_SECONDS[unit] for number, unit in (part.groups() for part in parts))


def header_number(text: str | None) -> float | None:
    """A header's number, or None when it is absent or not one (a proxy's odd value is ignored, not an error)."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Bucket:
    """One rate-limit dimension's headers, as OpenAI (Go-duration resets) or Anthropic (RFC 3339 resets) name them."""

    remaining: str
    reset: str
    limit: str
    absolute_reset: bool


_REQUEST_BUCKETS = (
    _Bucket("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "x-ratelimit-limit-requests", False),
    _Bucket("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset",
            "anthropic-ratelimit-requests-limit", True),
)  # fmt: skip
_TOKEN_BUCKETS = (
    _Bucket("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", "x-ratelimit-limit-tokens", False),
    _Bucket("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset",
            "anthropic-ratelimit-tokens-limit", True),
)  # fmt: skip


STOP_CHECK_SECONDS = 1.0
"""Long waits (a 429 may ask for minutes) are slept in slices this long, so that a stopped or interrupted run does
not sit out the rest of a wait before it ends."""


@dataclass(frozen=True)
class _TokensLeft:
    remaining: float
    seen_at: float
    reset_seconds: float | None
    per_minute: float | None


class Throttle:
    """Paces new sends so that the per-minute limits are never exceeded, evenly: providers quantize limits (3,000
    rpm is enforced as 50 per second, §1), so a burst then a stall would be refused where an even pace is not.
    It also slows down when the answers' rate-limit headers say a bucket is empty, and holds every send while a
    429's wait runs. Sends pass one at a time through ``acquire``, which sleeps while holding its gate: only one
    sender waits on the clock, the others queue behind it."""

    def __init__(self, limits: Limits, timing: Timing) -> None:
        self._timing = timing
        self._seconds_per_request = 60.0 / limits.requests_per_minute if limits.requests_per_minute else 0.0
        self._seconds_per_token = 60.0 / limits.tokens_per_minute if limits.tokens_per_minute else 0.0
        self._gate = threading.Lock()
        self._state = threading.Lock()
        self._next_request_at = float("-inf")
        self._next_tokens_at = float("-inf")
        self._held_until = float("-inf")
        self._tokens_left: _TokensLeft | None = None

    def acquire(self, rate_tokens: int, stop: threading.Event) -> bool:
        """Wait until a request of ``rate_tokens`` may go; False if the run stopped meanwhile."""
        with self._gate:
            while True:
                if stop.is_set():
                    return False
                now = self._timing.monotonic()
                ready_at = self._ready_at(rate_tokens)
                if ready_at <= now:
                    break
                self._timing.sleep(min(ready_at - now, STOP_CHECK_SECONDS))
            with self._state:
                self._next_request_at = _next_slot(self._next_request_at, now, self._seconds_per_request)
                self._next_tokens_at = _next_slot(self._next_tokens_at, now, rate_tokens * self._seconds_per_token)
            return True

    def hold_for(self, seconds: float) -> None:
        """A 429's wait pauses every send, not just the refused one: the limit is the key's, not the request's."""
        self._hold_until(self._timing.monotonic() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the rate-limit headers of an answer (§1): an empty request bucket holds new sends until its reset,
        but at most one request's refill time (60 / the limit), since the provider refills continuously and the
        reset names when the bucket is full again, not when it has room for one."""
        now = self._timing.monotonic()
        for bucket in _REQUEST_BUCKETS:
            remaining = header_number(headers.get(bucket.remaining))
            if remaining is not None and remaining <= 0:
                limit = header_number(headers.get(bucket.limit))
                wait_seconds = _shortest(self._reset_seconds(headers, bucket), 60.0 / limit if limit else None)
                if wait_seconds is not None:
                    self._hold_until(now + wait_seconds)
        for bucket in _TOKEN_BUCKETS:
            remaining = header_number(headers.get(bucket.remaining))
            if remaining is not None:
                limit = header_number(headers.get(bucket.limit))
                left = _TokensLeft(remaining, now, self._reset_seconds(headers, bucket), limit if limit else None)
                with self._state:
                    self._tokens_left = left

    def _ready_at(self, rate_tokens: int) -> float:
        with self._state:
            ready_at = max(self._next_request_at, self._next_tokens_at, self._held_until)
            left = self._tokens_left
        if left is not None and left.remaining < rate_tokens:
            refill = (rate_tokens - left.remaining) * 60.0 / left.per_minute if left.per_minute else None
            wait_seconds = _shortest(left.reset_seconds, refill)
            if wait_seconds is not None:
                ready_at = max(ready_at, left.seen_at + wait_seconds)
        return ready_at

    def _hold_until(self, moment: float) -> None:
        """Hold every send until ``moment``; the pace starts again from there, so the time held is not made up
        in a burst that the provider would refuse again."""
        with self._state:
            self._held_until = max(self._held_until, moment)
            self._next_request_at = max(self._next_request_at, moment)
            self._next_tokens_at = max(self._next_tokens_at, moment)

    def _reset_seconds(self, headers: Mapping[str, str], bucket: _Bucket) -> float | None:
        text = headers.get(bucket.reset)
        if text is None:
            return None
        if not bucket.absolute_reset:
            return go_duration_seconds(text)
        try:
            return max(0.0, (datetime.fromisoformat(text) - self._timing.wall_clock()).total_seconds())
        except ValueError:
            return None


def _next_slot(due: float, now: float, interval: float) -> float:
    """When the send after one that went at ``now`` may go: one interval after the slot this one was due in, so a
    late wake-up (the sleep's overshoot, the GIL, a busy CPU) is made up instead of added to the job, but never
    earlier than the provider's one-second bucket allows: a send may run behind by at most what that bucket holds
    beyond the send itself (nothing at 60 a minute or less). The first send sets the pace, with no burst."""
    if due == float("-inf"):
        return now + interval
    slack = max(0.0, 1.0 - interval)
    return max(due + interval, now + interval - slack)


def _shortest(*waits: float | None) -> float | None:
    known = [wait_seconds for wait_seconds in waits if wait_seconds is not None and wait_seconds >= 0]
    return min(known) if known else None
