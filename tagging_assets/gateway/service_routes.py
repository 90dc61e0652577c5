"""The gateway's own routes, outside every protocol: ``/health`` for whoever waits for it to start, and
``/stats`` and ``/stats/realtime`` for tests and benchmarks that ask what a client really did."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tagging_assets.gateway.gemini_batches import batch_name
from tagging_assets.gateway.http import json_response
from tagging_assets.gateway.runtime import GatewayRuntime


class ServiceRoutes:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/stats", self.stats, methods=["GET"]),
            Route("/stats/realtime", self.realtime_stats, methods=["GET"]),
        ]

    async def health(self, _request: Request) -> Response:
        """Also who answers the batches: the pipeline records it with each tag, so that the offline tagger's tags
        are replaced once a model answers, and a model's (through ``--upstream``) are not."""
        upstream = self._runtime.settings.upstream
        backend = "offline-tagger" if upstream is None else "upstream"
        return json_response({"status": "ok", "backend": backend, "upstream": upstream})

    async def stats(self, _request: Request) -> Response:
        """API requests served since start, by method and route: what a client really asked for; and every
        batch of every protocol with its status and request counts as the worker sees them (Anthropic shows
        no progress until a batch ends); a Gemini job under its Gemini name (``batches/…``)."""
        store = self._runtime.store
        rows = [*store.list_batches(None, 10_000), *store.list_batches(None, 10_000, messages=True)]
        batches = {row["id"]: {"status": row["status"], **row["request_counts"]} for row in rows}
        for row in store.list_batches(None, 10_000, gemini=True):
            batches[batch_name(row["id"])] = {"status": row["status"], **row["request_counts"]}
        return json_response({"requests": dict(self._runtime.served), "batches": batches})

    async def realtime_stats(self, _request: Request) -> Response:
        """The realtime requests that arrived, by ``X-Client-Request-Id`` and in total, and the 429s sent, by
        reason (``arrivals.py``): how often a throttling, retrying client really reached the API."""
        return json_response(self._runtime.arrivals.report())
