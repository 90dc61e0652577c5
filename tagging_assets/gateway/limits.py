"""Per-key request and token limits on the realtime endpoints, enforced the way OpenAI describes its own.

OpenAI states its limits per minute but enforces them quantized ("60,000 requests/minute may be enforced as 1,000
requests/second"), so a client that sends a whole minute's worth at once is refused even though it stays under the
per-minute figure. The gateway does the same: one token bucket per key and dimension holding one second's worth
(the limit / 60, at least 1), refilled continuously at that rate and starting full. A request is let in when the
bucket holds at least the smaller of its cost and the bucket's size, then takes its whole cost: the level may go
below zero, a debt the refill repays before the next one gets in. A client that paces itself at the limit is never
refused; one that bursts is, with the wait that would have let it in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tagging_assets.core.protocol import CHARS_PER_TOKEN
from tagging_assets.gateway.tokens import input_characters

DEFAULT_OUTPUT_BUDGET = 4_096
"""The output budget a request without ``max_tokens`` / ``max_completion_tokens`` / ``max_output_tokens`` is
counted at. OpenAI does not publish the figure it uses (it counts the model's own maximum, reportedly); this one is
the gateway's choice, large enough that leaving the budget out costs more than setting a sensible one."""
OUTPUT_BUDGET_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens", "maxOutputTokens")

Dimension = Literal["requests", "tokens"]
_TOLERANCE = 1e-9
"""Of a bucket's level: a client that waited exactly the announced time is let in despite rounding."""


def request_cost(body: dict[str, Any]) -> int:
    """What a request counts against the tokens limit, as OpenAI counts it: the larger of its output budget and
    an estimate of its input from its characters (characters / 4)."""
    generation = body.get("generationConfig")
    fields = {**body, **generation} if isinstance(generation, dict) else body
    budget = next(
        (value for field in OUTPUT_BUDGET_FIELDS if isinstance(value := fields.get(field), int) and value > 0),
        DEFAULT_OUTPUT_BUDGET,
    )
    return max(budget, math.ceil(input_characters(body) / CHARS_PER_TOKEN))


def go_duration(seconds: float) -> str:
    """``seconds`` as Go's ``time.Duration`` prints it, to the millisecond (``20ms``, ``1.5s``, ``6m0s``): the
    form of OpenAI's ``x-ratelimit-reset-*`` headers and of its "Please try again in …" messages. A wait shorter
    than a millisecond is shown as one, so a client that waits what it is told is let in."""
    millis = math.ceil(seconds * 1000 - 1e-6) if seconds > 0 else 0
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    secs = f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs


class TokenBucket:
    """One key's bucket for one dimension: one second's worth of the per-minute limit."""

    def __init__(self, limit_per_minute: int, now: float) -> None:
        self.limit = limit_per_minute
        self.rate = limit_per_minute / 60
        self.capacity = max(1.0, self.rate)
        self._level = self.capacity
        self._updated = now

    def refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now

    def wait_for(self, cost: int) -> float:
        """Seconds until the bucket would let in a request of ``cost`` (0 when it would now); call after
        ``refill``."""
        shortfall = min(cost, self.capacity) - self._level
        return shortfall / self.rate if shortfall > _TOLERANCE else 0.0

    def take(self, cost: int) -> None:
        self._level -= cost

    def state(self) -> LimitState:
        """The bucket as the ``x-ratelimit-*`` headers show it. Remaining is the per-minute limit scaled by how
        full the one-second bucket is, so a client reading ``limit`` and ``remaining`` side by side sees the share
        it may still send; reset is the time until the bucket is full again, as OpenAI defines it."""
        remaining = math.floor(max(0.0, self._level) / self.capacity * self.limit)
        return LimitState(self.limit, remaining, (self.capacity - self._level) / self.rate)


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    reset_seconds: float

    @property
    def used(self) -> int:
        return self.limit - self.remaining


@dataclass(frozen=True)
class Verdict:
    """What the limiter decided for one request, and the state of its buckets afterwards."""

    refused: Literal["requests", "tokens", "too_large"] | None
    """Which limit refused it: ``too_large`` when its cost alone is over the per-minute tokens limit."""
    wait_seconds: float
    """Until it would be let in; 0 when admitted, and meaningless for ``too_large`` (never)."""
    cost: int
    requests: LimitState | None
    tokens: LimitState | None


class RateLimiter:
    """The buckets of every API key seen, for the limits that are set. Used from the event loop only."""

    def __init__(
        self,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits: dict[Dimension, int] = {}
        if requests_per_minute is not None:
            self._limits["requests"] = requests_per_minute
        if tokens_per_minute is not None:
            self._limits["tokens"] = tokens_per_minute
        self._clock = clock
        self._buckets: dict[tuple[str, Dimension], TokenBucket] = {}

    def admit(self, key: str, cost: int) -> Verdict:
        """Let one request of ``cost`` tokens in for ``key``, taking from its buckets, or say why not."""
        buckets = self._refilled(key)
        costs: dict[Dimension, int] = {"requests": 1, "tokens": cost}
        tokens_limit = self._limits.get("tokens")
        if tokens_limit is not None and cost > tokens_limit:
            return self._verdict(buckets, "too_large", 0.0, cost)
        waits = {dimension: bucket.wait_for(costs[dimension]) for dimension, bucket in buckets.items()}
        refused = next((dimension for dimension, wait in waits.items() if wait > 0), None)
        if refused is not None:
            return self._verdict(buckets, refused, max(waits.values()), cost)
        for dimension, bucket in buckets.items():
            bucket.take(costs[dimension])
        return self._verdict(buckets, None, 0.0, cost)

    def peek(self, key: str) -> Verdict:
        """The state of ``key``'s buckets, taking nothing: for an answer that does not pass the limiter."""
        return self._verdict(self._refilled(key), None, 0.0, 0)

    def _refilled(self, key: str) -> dict[Dimension, TokenBucket]:
        now = self._clock()
        buckets: dict[Dimension, TokenBucket] = {}
        for dimension, limit in self._limits.items():
            bucket = self._buckets.get((key, dimension))
            if bucket is None:
                bucket = self._buckets[(key, dimension)] = TokenBucket(limit, now)
            bucket.refill(now)
            buckets[dimension] = bucket
        return buckets

    @staticmethod
    def _verdict(
        buckets: dict[Dimension, TokenBucket],
        refused: Literal["requests", "tokens", "too_large"] | None,
        wait: float,
        cost: int,
    ) -> Verdict:
        requests, tokens = buckets.get("requests"), buckets.get("tokens")
        return Verdict(refused, wait, cost, requests.state() if requests else None, tokens.state() if tokens else None)
