"""What reached the realtime endpoints, for the tests and benchmarks of a client that throttles and retries: how
often each of its requests arrived, and every 429 the gateway sent, by reason.

A request arrives when the gateway answers it, with the tagger or with an injected fault; one the rate limiter
refuses never reached the API behind it, so it is counted only among the 429s. Requests are told apart by the
``X-Client-Request-Id`` header OpenAI lets a client set (the project's executor sends the custom_id there).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

REFUSED_BY_LIMITER = ("requests", "tokens", "too_large")
"""The 429 reasons of the rate limiter; the others (``insufficient_quota``, ``flex_unavailable``, ``injected``)
are answers of a fault, and their requests did arrive."""


class Arrivals:
    def __init__(self) -> None:
        self._by_client_id: Counter[str] = Counter()
        self._total = 0
        self._too_many_requests: Counter[str] = Counter()

    def arrived(self, client_request_id: str | None) -> None:
        self._total += 1
        if client_request_id:
            self._by_client_id[client_request_id] += 1

    def too_many_requests(self, reason: str) -> None:
        """One 429 sent, for ``reason``: a limiter's (``REFUSED_BY_LIMITER``) or a fault's."""
        self._too_many_requests[reason] += 1

    def report(self) -> dict[str, Any]:
        return {
            "received": dict(self._by_client_id),
            "total": self._total,
            "429_by_reason": dict(self._too_many_requests),
        }
