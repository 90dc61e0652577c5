"""The realtime endpoints: OpenAI's chat completions and responses (and Azure's deployment path), Anthropic's
messages, each answered at once by the same tagger that runs the batches, behind the per-key rate limits and the
spent quota a real API would put in front of it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tagging_assets.core.protocol import CHAT_COMPLETIONS, GENERATE_CONTENT, MESSAGES, RESPONSES
from tagging_assets.gateway.completions import request_id
from tagging_assets.gateway.http import (
    AnthropicApiError,
    ApiError,
    GeminiApiError,
    gemini_json_body,
    json_body,
    json_response,
)
from tagging_assets.gateway.limits import RateLimiter, Verdict, request_cost
from tagging_assets.gateway.paths import AZURE_PREFIX, CLIENT_REQUEST_ID, gemini_model
from tagging_assets.gateway.refusals import (
    FLEX_UNAVAILABLE,
    anthropic_limit_headers,
    anthropic_rate_limited,
    anthropic_spend_limit,
    gemini_quota_spent,
    gemini_rate_limited,
    insufficient_quota,
    openai_limit_headers,
    openai_rate_limited,
)
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.upstream import (
    ANTHROPIC_MESSAGES,
    FORWARDED_HEADERS,
    GEMINI_GENERATE_CONTENT,
    Upstream,
    upstream_path,
    upstream_speaks_openai,
)


class RealtimeRoutes:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime
        settings = runtime.settings
        self._limiter = (
            RateLimiter(requests_per_minute=settings.requests_per_minute, tokens_per_minute=settings.tokens_per_minute)
            if settings.requests_per_minute or settings.tokens_per_minute
            else None
        )
        self._admitted = 0
        self._attempts: Counter[str] = Counter()

    def routes(self, prefix: str) -> list[Route]:
        """OpenAI's two endpoints under ``prefix``."""
        return [
            Route(f"{prefix}/chat/completions", self.chat_completion, methods=["POST"]),
            Route(f"{prefix}/responses", self.response, methods=["POST"]),
        ]

    def azure_and_anthropic_routes(self) -> list[Route]:
        """Azure's per-deployment chat completions and Anthropic's messages."""
        return [
            Route(
                f"{AZURE_PREFIX}/deployments/{{deployment}}/chat/completions", self.chat_completion, methods=["POST"]
            ),
            Route(MESSAGES, self.message, methods=["POST"]),
        ]

    async def chat_completion(self, request: Request) -> Response:
        return await self._answer(CHAT_COMPLETIONS, request)

    async def response(self, request: Request) -> Response:
        return await self._answer(RESPONSES, request)

    async def message(self, request: Request) -> Response:
        return await self._answer(MESSAGES, request)

    async def generate_content(self, request: Request, model: str) -> Response:
        """Gemini's generateContent for a served ``model`` (``gemini_routes`` checks it), at its stored
        endpoint, behind the same quota and limits."""
        return await self._answer(GENERATE_CONTENT.format(model=model), request)

    async def _answer(self, endpoint: str, request: Request) -> Response:
        """The spent quota first (it refuses everything), then the limiter, then the tagger. The request's key
        for the tagger's faults is its content and how often that content came, so a retry of a request that an
        injected fault hit can get through, and a rerun meets the same faults."""
        if self._runtime.upstream is not None:
            return await self._forward(endpoint, request, self._runtime.upstream)
        runtime = self._runtime
        anthropic = endpoint == MESSAGES
        gemini = gemini_model(endpoint)
        body = await (gemini_json_body(request) if gemini else json_body(request))
        client_id = request.headers.get(CLIENT_REQUEST_ID)
        echoed = {CLIENT_REQUEST_ID: client_id} if client_id else {}
        content = hashlib.sha256(f"{endpoint}:{json.dumps(body, sort_keys=True)}".encode()).hexdigest()
        attempt = self._attempts[content]
        key = request_id(f"realtime:{content}:{attempt}")
        api_key = _api_key(request)
        quota = runtime.faults.quota_exhausted_after
        if quota is not None and self._admitted >= quota:
            runtime.arrivals.arrived(client_id)
            runtime.arrivals.too_many_requests("insufficient_quota")
            if gemini:
                return json_response(gemini_quota_spent(gemini), 429, echoed)
            headers = echoed | self._limit_headers(self._peek(api_key), anthropic=anthropic)
            return json_response(anthropic_spend_limit(key) if anthropic else insufficient_quota(), 429, headers)
        verdict = self._limiter.admit(api_key, request_cost(body)) if self._limiter else None
        if verdict is not None and verdict.refused is not None:
            runtime.arrivals.too_many_requests(verdict.refused)
            if gemini:
                return json_response(gemini_rate_limited(gemini, verdict), 429, echoed)
            if anthropic:
                refusal, headers = anthropic_rate_limited(verdict, key)
            else:
                refusal, headers = openai_rate_limited(str(body.get("model")), verdict)
            return json_response(refusal, 429, echoed | headers)
        self._admitted += 1
        self._attempts[content] += 1
        runtime.arrivals.arrived(client_id)
        status, reply = await runtime.pool.run_realtime(
            (endpoint, body, key, runtime.settings.tagger, runtime.faults, None)
        )
        if status == 429:
            runtime.arrivals.too_many_requests(_fault_reason(reply))
        limit_headers = {} if gemini else self._limit_headers(verdict, anthropic=anthropic)
        return json_response(reply, status, echoed | limit_headers)

    @staticmethod
    async def _forward(endpoint: str, request: Request, upstream: Upstream) -> Response:
        """With an upstream, the realtime endpoints reach the model too: body, status and the pacing headers pass
        through as they are, so a realtime job against the gateway meets the model server's own limits."""
        if endpoint == MESSAGES:
            raise AnthropicApiError(400, upstream_speaks_openai(upstream.url, api=ANTHROPIC_MESSAGES))
        if gemini_model(endpoint):
            raise GeminiApiError(
                400, upstream_speaks_openai(upstream.url, api=GEMINI_GENERATE_CONTENT), "FAILED_PRECONDITION"
            )
        body = await request.body()
        client_id = request.headers.get(CLIENT_REQUEST_ID)
        try:
            answer = await run_in_threadpool(upstream.forward, upstream_path(endpoint), body, client_id)
        except httpx.TransportError as error:
            message = f"The upstream {upstream.url} did not answer: {type(error).__name__}: {error}"
            raise ApiError(502, message, code="upstream_unreachable", kind="api_error") from None
        headers = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() in FORWARDED_HEADERS or name.lower().startswith("x-ratelimit-")
        }
        echoed = {CLIENT_REQUEST_ID: client_id} if client_id else {}
        return Response(answer.content, answer.status_code, headers | echoed)

    def _peek(self, api_key: str) -> Verdict | None:
        return self._limiter.peek(api_key) if self._limiter else None

    @staticmethod
    def _limit_headers(verdict: Verdict | None, *, anthropic: bool) -> dict[str, str]:
        if verdict is None:
            return {}
        return anthropic_limit_headers(verdict) if anthropic else openai_limit_headers(verdict)


def _api_key(request: Request) -> str:
    """The key a request is counted against, however its API sends it: a bearer token, Azure's ``api-key``,
    Anthropic's ``x-api-key``, Gemini's ``x-goog-api-key`` or ``?key=``."""
    headers = request.headers
    scheme, _, token = headers.get("authorization", "").partition(" ")
    gemini = headers.get("x-goog-api-key") or request.query_params.get("key")
    return headers.get("api-key") or headers.get("x-api-key") or gemini or (token if scheme.lower() == "bearer" else "")


def _fault_reason(reply: dict[str, Any]) -> str:
    """Why the tagger's side answered 429: no flex capacity (OpenAI's code, or its message in Google's shape), or
    an injected line error."""
    error = reply.get("error") or {}
    no_capacity = error.get("code") == "resource_unavailable" or error.get("message") == FLEX_UNAVAILABLE
    return "flex_unavailable" if no_capacity else "injected"
