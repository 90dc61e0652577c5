"""The 429s of the realtime endpoints, in each API's words: a rate limit reached, a request too large for the
tokens limit, a spent quota, no flex capacity; and the rate-limit headers every realtime answer carries.

The bodies are the ones captured from the real APIs (the project's run-modes reference quotes them; where a body
is not confirmed its docstring says so), so a client's retry logic meets here what it meets at the real APIs:
which 429s to wait out (``retry-after-ms`` / ``retry-after``), and which never to retry (a request too large, a
spent quota).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from tagging_assets.gateway.gemini import google_error
from tagging_assets.gateway.limits import LimitState, Verdict, go_duration
from tagging_assets.gateway.messages import anthropic_error
from tagging_assets.gateway.models import error_body

ORGANIZATION = "org-tagging-assets-gateway"
RATE_LIMITS_PAGE = "Visit https://platform.openai.com/account/rate-limits to learn more."
_LABELS = {"requests": "requests per min (RPM)", "tokens": "tokens per min (TPM)"}
INSUFFICIENT_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more information on this "
    "error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
SPEND_LIMIT = "You have reached your specified API usage limits. You will regain access when the limit resets."
"""Anthropic's spend-limit message; only its ``error.details.error_code`` is confirmed by the reference."""
FLEX_UNAVAILABLE = "Resource unavailable: flex capacity is exhausted; retry later or use service_tier auto."
"""OpenAI documents a 429 "Resource Unavailable" for a flex request without capacity, but not its body: this
message, its ``type`` and its ``code`` (``resource_unavailable`` both) are the gateway's, not confirmed."""


def openai_rate_limited(model: str, verdict: Verdict) -> tuple[dict[str, Any], dict[str, str]]:
    """OpenAI's 429 for a request the limiter refused, and its headers: ``retry-after-ms`` and ``retry-after``
    (whole seconds, rounded up) say when it would get in, except for a request too large, which never will."""
    if verdict.refused == "too_large":
        assert verdict.tokens is not None
        message = (
            f"Request too large for {model} in organization {ORGANIZATION} on {_LABELS['tokens']}: "
            f"Limit {verdict.tokens.limit}, Requested {verdict.cost}. The input or output tokens must be reduced "
            f"in order to run successfully. {RATE_LIMITS_PAGE}"
        )
        return error_body(message, "tokens", None, "rate_limit_exceeded"), openai_limit_headers(verdict)
    dimension = "requests" if verdict.refused == "requests" else "tokens"
    state = verdict.requests if dimension == "requests" else verdict.tokens
    assert state is not None
    requested = 1 if dimension == "requests" else verdict.cost
    message = (
        f"Rate limit reached for {model} in organization {ORGANIZATION} on {_LABELS[dimension]}: "
        f"Limit {state.limit}, Used {state.used}, Requested {requested}. "
        f"Please try again in {go_duration(verdict.wait_seconds)}. {RATE_LIMITS_PAGE}"
    )
    millis = max(1, math.ceil(verdict.wait_seconds * 1000))
    headers = {"retry-after-ms": str(millis), "retry-after": str(math.ceil(millis / 1000))}
    return error_body(message, dimension, None, "rate_limit_exceeded"), headers | openai_limit_headers(verdict)


def openai_limit_headers(verdict: Verdict) -> dict[str, str]:
    """``x-ratelimit-limit|remaining|reset-requests|tokens`` for each limit that is set; resets as Go durations."""
    headers: dict[str, str] = {}
    for dimension, state in (("requests", verdict.requests), ("tokens", verdict.tokens)):
        if state is not None:
            headers[f"x-ratelimit-limit-{dimension}"] = str(state.limit)
            headers[f"x-ratelimit-remaining-{dimension}"] = str(state.remaining)
            headers[f"x-ratelimit-reset-{dimension}"] = go_duration(state.reset_seconds)
    return headers


def insufficient_quota() -> dict[str, Any]:
    """OpenAI's 429 for a spent quota: no ``retry-after``, since waiting does not refill it."""
    return error_body(INSUFFICIENT_QUOTA, "insufficient_quota", None, "insufficient_quota")


def flex_unavailable() -> dict[str, Any]:
    return error_body(FLEX_UNAVAILABLE, "resource_unavailable", None, "resource_unavailable")


def anthropic_rate_limited(verdict: Verdict, request_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Anthropic's 429 for a request the limiter refused, with ``retry-after`` in whole seconds (none for a
    request too large) and the ``anthropic-ratelimit-*`` headers."""
    if verdict.refused == "too_large":
        assert verdict.tokens is not None
        message = (
            f"This request would exceed the rate limit for your organization of {verdict.tokens.limit:,} tokens "
            f"per minute: it alone asks for {verdict.cost:,}. Please reduce the prompt length or the maximum "
            "tokens requested."
        )
        retry: dict[str, str] = {}
    else:
        dimension = "requests" if verdict.refused == "requests" else "tokens"
        state = verdict.requests if dimension == "requests" else verdict.tokens
        assert state is not None
        message = (
            f"This request would exceed the rate limit for your organization of {state.limit:,} {dimension} per "
            "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response "
            "headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try "
            "again later."
        )
        retry = {"retry-after": str(max(1, math.ceil(verdict.wait_seconds)))}
    body = {**anthropic_error("rate_limit_error", message), "request_id": request_id}
    return body, retry | anthropic_limit_headers(verdict)


def anthropic_spend_limit(request_id: str) -> dict[str, Any]:
    """Anthropic's spend-limit 429: a ``rate_limit_error`` that says, in ``error.details``, not to retry."""
    body = anthropic_error("rate_limit_error", SPEND_LIMIT)
    body["error"]["details"] = {"error_code": "enforced_spend_limit_reached"}
    return {**body, "request_id": request_id}


def anthropic_limit_headers(verdict: Verdict, now: datetime | None = None) -> dict[str, str]:
    """``anthropic-ratelimit-requests|tokens-limit|remaining|reset``; reset is an RFC 3339 time, as Anthropic
    sends it, rounded up to the second."""
    now = now or datetime.now(UTC)
    headers: dict[str, str] = {}
    for dimension, state in (("requests", verdict.requests), ("tokens", verdict.tokens)):
        if state is not None:
            headers[f"anthropic-ratelimit-{dimension}-limit"] = str(state.limit)
            headers[f"anthropic-ratelimit-{dimension}-remaining"] = str(state.remaining)
            headers[f"anthropic-ratelimit-{dimension}-reset"] = _rfc3339(now, state)
    return headers


def _rfc3339(now: datetime, state: LimitState) -> str:
    reset = math.ceil(now.timestamp() + state.reset_seconds)
    return datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


GEMINI_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more information on this "
    "error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def gemini_quota_spent(model: str) -> dict[str, Any]:
    """Gemini's 429 once a daily quota is spent: RESOURCE_EXHAUSTED whose ``QuotaFailure`` names a per-day quota
    (``GenerateRequestsPerDayPerProjectPerModel``), which no wait of seconds cures; the message is the one Google
    sends for every quota."""
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
        "quotaId": f"GenerateRequestsPerDayPerProjectPerModel-{model}",
        "quotaDimensions": {"model": model},
    }
    details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}]
    return google_error(429, GEMINI_QUOTA, details=details)


def retry_info(seconds: float) -> dict[str, str]:
    """Google's ``RetryInfo`` detail: how a Gemini 429 says when to retry, as Google sends no retry header.
    ``retryDelay`` is a protobuf Duration, which may be fractional (``"0.5s"``)."""
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds:g}s"}


def gemini_enqueued_limit(model: str, tokens: int, limit: int) -> str:
    """Gemini's refusal of a job whose prompt tokens would put its model's enqueued tokens over the limit, sent
    as 429 RESOURCE_EXHAUSTED (Google's batch mode has an enqueued-tokens limit per model,
    ai.google.dev/gemini-api/docs/rate-limits#batch-mode). The exact body Google sends is not sourced: this
    message is the gateway's own, in Google's error shape."""
    return (
        f"Resource has been exhausted: the batch would bring the enqueued tokens of {model} to {tokens:,}, "
        f"over the limit of {limit:,}. Try again when jobs for {model} have finished."
    )


def gemini_rate_limited(model: str, verdict: Verdict) -> dict[str, Any]:
    """Gemini's 429 for a request the limiter refused: RESOURCE_EXHAUSTED with the ``QuotaFailure`` and
    ``RetryInfo`` details Google sends (the reference quotes the shape; the quota ids here are the gateway's).
    Google sends no ``retry-after`` header: the wait is in ``retryDelay``."""
    dimension = "requests" if verdict.refused == "requests" else "input_token_count"
    quota_id = f"GenerateRequestsPerMinutePerProjectPerModel-{model}"
    if dimension != "requests":
        quota_id = f"GenerateContentInputTokensPerModelPerMinute-{model}"
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": f"generativelanguage.googleapis.com/generate_content_{dimension}",
                    "quotaId": quota_id,
                    "quotaDimensions": {"model": model},
                }
            ],
        },
    ]
    message = GEMINI_QUOTA
    if verdict.refused != "too_large":
        details.append(retry_info(max(1, math.ceil(verdict.wait_seconds))))
        message = f"{GEMINI_QUOTA} Please retry in {verdict.wait_seconds:.1f}s."
    return google_error(429, message, details=details)
