"""The realtime endpoints: OpenAI's chat completions and responses (and Azure's deployment path), Anthropic's
messages, each answered at once by the same tagger that runs the batches."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, RESPONSES
from tagging_assets.gateway.completions import request_id
from tagging_assets.gateway.http import json_body, json_response
from tagging_assets.gateway.paths import AZURE_PREFIX
from tagging_assets.gateway.runtime import GatewayRuntime


class RealtimeRoutes:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime

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

    async def _answer(self, endpoint: str, request: Request) -> Response:
        body = await json_body(request)
        key = request_id(f"realtime:{time.time_ns()}")
        runtime = self._runtime
        status, reply = await runtime.pool.run((endpoint, body, key, runtime.settings.tagger, runtime.faults, None))
        return json_response(reply, status)
