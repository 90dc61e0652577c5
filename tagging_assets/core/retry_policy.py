"""What the realtime executor does with one answer: final, retried after a wait, or the end of the run.

Facts cited as "§1" are from REFERENCE-runmodes.md §1.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum

from tagging_assets.core.realtime_calls import HttpAnswer, Limits, Timing
from tagging_assets.core.throttle import header_number


class Verdict(Enum):
    FINAL = "final"
    RETRY = "retry"
    RETRY_RATE_LIMITED = "retry after a rate limit"
    STOP_RUN = "stop the run"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    wait_seconds: float = 0.0
    reason: str = ""


class RetryPolicy:
    """What to do with one answer. The SDKs' own retries are off (``max_retries=0``) because they are wrong for a
    long job (§1): openai-python gives up at once on a ``retry-after`` over 120 s and retries insufficient_quota;
    anthropic-sdk-python ignores a ``retry-after`` over 60 s. Here a 429 is waited out however long it asks, quota
    and spend-limit refusals stop the run, "Request too large" is final, and ``x-should-retry`` wins as in the
    SDKs."""

    def __init__(self, limits: Limits, timing: Timing) -> None:
        self._limits = limits
        self._timing = timing

    def decide(self, answer: HttpAnswer | None, *, retries: int, rate_limit_retries: int) -> Decision:
        """``answer`` None means the connection was lost. ``retries`` counts this request's earlier non-429
        retries, ``rate_limit_retries`` its earlier 429 retries."""
        if answer is not None and 200 <= answer.status_code < 300:
            return Decision(Verdict.FINAL)
        error = _error_of(answer.body) if answer is not None else {}
        spent = _spent_quota(error) if answer is not None and answer.status_code == 429 else None
        if spent is not None:
            message = " ".join(str(error.get("message") or "no message").split())
            return Decision(Verdict.STOP_RUN, reason=f"{spent}: {message}")
        should_retry = answer.headers.get("x-should-retry") if answer is not None else None
        if should_retry == "false":
            return Decision(Verdict.FINAL)
        if answer is not None and answer.status_code == 429:
            too_large = str(error.get("message") or "").startswith("Request too large")
            asked = _retry_after_seconds(answer.headers, self._timing.wall_clock()) or retry_delay_seconds(error)
            endless = asked is None and rate_limit_retries >= self._limits.max_retries * 4
            if (too_large and should_retry != "true") or endless:
                return Decision(Verdict.FINAL)
            wait_seconds = asked if asked is not None else self._backoff(rate_limit_retries)
            return Decision(Verdict.RETRY_RATE_LIMITED, wait_seconds)
        retryable = answer is None or answer.status_code in (408, 409) or answer.status_code >= 500
        if (retryable or should_retry == "true") and retries < self._limits.max_retries:
            return Decision(Verdict.RETRY, self._backoff(retries))
        return Decision(Verdict.FINAL)

    def _backoff(self, earlier_retries: int) -> float:
        """Exponential, capped, with the SDKs' jitter (times 0.75 to 1) so that requests refused together do not
        come back together."""
        base = self._limits.first_backoff_seconds * 2.0 ** min(earlier_retries, 60)
        return min(base, self._limits.max_backoff_seconds) * random.uniform(0.75, 1.0)


def _error_of(body: bytes) -> dict[str, object]:
    """The ``error`` object of an OpenAI, Anthropic or Google error body, or empty when the body is not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _spent_quota(error: Mapping[str, object]) -> str | None:
    """How the API named a quota that no wait of seconds cures, if this 429 is one: OpenAI's insufficient_quota,
    Anthropic's enforced spend limit (§1), or Google's spent daily quota. Google sends one message for every
    quota; its ``QuotaFailure`` detail names which, and a per-day one (``GenerateRequestsPerDayPerProjectPerModel-…``)
    is spent until tomorrow."""
    details = error.get("details")
    spend_limit = isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached"
    if spend_limit or "insufficient_quota" in (error.get("type"), error.get("code")):
        return "insufficient_quota"
    return "RESOURCE_EXHAUSTED (a daily quota)" if _daily_quota_spent(details) else None


def _daily_quota_spent(details: object) -> bool:
    for detail in details if isinstance(details, list) else []:
        violations = detail.get("violations") if isinstance(detail, dict) else None
        for violation in violations if isinstance(violations, list) else []:
            if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId") or ""):
                return True
    return False


def retry_delay_seconds(error: Mapping[str, object]) -> float | None:
    """The wait a Google error body asks for (Gemini sends no ``retry-after``): its ``RetryInfo`` detail's
    ``retryDelay``, a protobuf Duration such as ``"2s"`` or ``"0.5s"``."""
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        seconds = header_number(delay.removesuffix("s")) if isinstance(delay, str) else None
        if seconds is not None and seconds > 0:
            return seconds
    return None


def _retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """``retry-after-ms`` first, then ``retry-after`` in seconds or as an HTTP date, as openai-python reads them."""
    milliseconds = header_number(headers.get("retry-after-ms"))
    if milliseconds is not None and milliseconds > 0:
        return milliseconds / 1000.0
    text = headers.get("retry-after")
    seconds = header_number(text)
    if seconds is None and text:
        try:
            seconds = (parsedate_to_datetime(text) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return seconds if seconds is not None and seconds > 0 else None
