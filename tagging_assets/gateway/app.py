"""The HTTP face of the gateway, assembled: OpenAI's Files, Batches, Models, Chat Completions and Responses under
``/v1`` (and Azure's spelling of them under ``/openai``), Anthropic's Messages and Message Batches under
``/v1/messages``, Gemini's Batch API, Files and generateContent under ``/v1`` and ``/v1beta``, with each API's
objects, errors and status codes, so that the official SDKs talk to it as they talk to the real APIs. Each
protocol's routes live in their own module; this one only puts them together."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from tagging_assets.gateway.batch_routes import BatchRoutes
from tagging_assets.gateway.files_routes import FilesRoutes
from tagging_assets.gateway.gemini_routes import GeminiPaths, GeminiRoutes
from tagging_assets.gateway.http import ApiError, json_response
from tagging_assets.gateway.message_batch_routes import MessageBatchRoutes
from tagging_assets.gateway.middleware import Guard
from tagging_assets.gateway.model_routes import ModelRoutes
from tagging_assets.gateway.paths import AZURE_PREFIX, OPENAI_PREFIX
from tagging_assets.gateway.pool import TaggerPool
from tagging_assets.gateway.realtime_routes import RealtimeRoutes
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.service_routes import ServiceRoutes
from tagging_assets.gateway.settings import GatewaySettings


def build_app(settings: GatewaySettings, *, pool: TaggerPool | None = None) -> Starlette:
    """The ASGI app for one gateway instance; its worker runs while the app is served, on its own tagger
    processes or on ``pool``, which outlives it for the next app of the same process."""
    runtime = GatewayRuntime(settings, pool)
    realtime = RealtimeRoutes(runtime)
    openai_apis = (ModelRoutes(runtime.faults), FilesRoutes(runtime), BatchRoutes(runtime), realtime)
    routes = [
        *ServiceRoutes(runtime).routes(),
        *(route for prefix in (OPENAI_PREFIX, AZURE_PREFIX) for api in openai_apis for route in api.routes(prefix)),
        *realtime.azure_and_anthropic_routes(),
        *MessageBatchRoutes(runtime).routes(),
        *GeminiRoutes(runtime, realtime).routes(),
    ]
    return Starlette(
        routes=routes,
        lifespan=runtime.lifespan,
        middleware=[Middleware(GeminiPaths), Middleware(BaseHTTPMiddleware, dispatch=Guard(runtime).dispatch)],
        exception_handlers={ApiError: _api_error},
    )


async def _api_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return json_response(error.body, error.status)
