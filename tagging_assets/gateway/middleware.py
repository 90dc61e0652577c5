"""What every API request passes through before its route: each protocol's credentials checked as its API checks
them, the request counted for ``/stats``, and the injected API faults (latency, 429s, 500s, cut-off replies)."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tagging_assets.core.protocol import MESSAGES
from tagging_assets.gateway.gemini import google_error
from tagging_assets.gateway.http import json_response
from tagging_assets.gateway.messages import anthropic_error
from tagging_assets.gateway.models import error_body
from tagging_assets.gateway.paths import (
    CLIENT_REQUEST_ID,
    GEMINI_PREFIX,
    OPENAI_PREFIX,
    is_azure,
    is_gemini,
    is_realtime,
)
from tagging_assets.gateway.refusals import retry_info
from tagging_assets.gateway.runtime import GatewayRuntime

AZURE_UNAUTHORIZED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
_ID = re.compile(r"/(?:msgbatch_|batch_|file-)[A-Za-z0-9]+")
_GEMINI_ID = re.compile(r"/(batches|files)/[a-z0-9]{20,}")
GEMINI_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or "
    "other form of API consumer identity to call this API."
)
GEMINI_BAD_KEY = "API key not valid. Please pass a valid API key."


class Guard:
    """The middleware of one gateway: ``dispatch`` runs for every request, and lets ``/health`` and ``/stats``
    through untouched. An injected 429 or 500 on a realtime endpoint is an answer: its request counts as arrived
    (``arrivals.py``)."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self._settings = runtime.settings
        self._faults = runtime.faults
        self._served = runtime.served
        self._arrivals = runtime.arrivals
        self._requests = itertools.count(1)

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        azure = is_azure(request.url.path)
        anthropic = request.url.path.startswith(MESSAGES)
        gemini = is_gemini(request.url.path)
        if not azure and not gemini and not request.url.path.startswith(f"{OPENAI_PREFIX}/"):
            return await call_next(request)
        if gemini:
            refused = self._gemini_refusal(request)
        elif azure:
            refused = self._azure_refusal(request)
        elif anthropic:
            refused = self._anthropic_refusal(request)
        else:
            refused = self._openai_refusal(request)
        if refused is not None:
            return refused
        number = next(self._requests)
        route = _GEMINI_ID.sub(r"/\1/{id}", _ID.sub("/{id}", request.url.path.removeprefix(GEMINI_PREFIX)))
        self._served[f"{request.method} {route}"] += 1
        faults = self._faults
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        client_id = request.headers.get(CLIENT_REQUEST_ID)
        echoed = {CLIENT_REQUEST_ID: client_id} if client_id else {}
        injected_429 = bool(faults.rate_limit_every) and number % faults.rate_limit_every == 0
        injected_500 = bool(faults.server_error_every) and number % faults.server_error_every == 0
        if (injected_429 or injected_500) and request.method == "POST" and is_realtime(request.url.path):
            self._arrivals.arrived(client_id)
            if injected_429:
                self._arrivals.too_many_requests("injected")
        if injected_429:
            seconds = faults.retry_after_seconds
            message = "Rate limit reached for requests (injected fault)."
            if gemini:
                body = google_error(
                    429,
                    "Resource has been exhausted (e.g. check quota). (injected fault)",
                    details=[retry_info(seconds)],
                )
                return json_response(body, 429, echoed)
            if anthropic:
                body = anthropic_error("rate_limit_error", message)
            else:
                body = error_body(message, "requests", None, "rate_limit_exceeded")
            retry = {"retry-after": f"{seconds:g}", "retry-after-ms": str(int(seconds * 1000))}
            return json_response(body, 429, echoed | retry)
        if injected_500:
            message = "The server had an error while processing your request (injected fault)."
            if gemini:
                body = google_error(500, "An internal error has occurred. (injected fault)")
            else:
                body = anthropic_error("api_error", message) if anthropic else error_body(message, "server_error")
            return json_response(body, 500, echoed)
        response = await call_next(request)
        if faults.disconnect_every and number % faults.disconnect_every == 0:
            return _CutOffResponse()
        return response

    def _openai_refusal(self, request: Request) -> Response | None:
        """OpenAI's answers to a request without a bearer token or with a wrong one."""
        expected = self._settings.api_key
        if expected is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return json_response(
                error_body(
                    "You didn't provide an API key. You need to provide your API key in an Authorization "
                    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                ),
                401,
            )
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return json_response(
                error_body("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"), 401
            )
        return None

    def _gemini_refusal(self, request: Request) -> Response | None:
        """Google's answers to a request without its key (``x-goog-api-key`` or ``?key=``) or with a wrong one.
        An upload's bytes carry no key: the upload URL's id authorizes them (``gemini_files``)."""
        expected = self._settings.api_key
        if expected is None:
            return None
        if request.url.path.startswith(f"{GEMINI_PREFIX}/upload/") and "upload_id" in request.query_params:
            return None
        offered = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not offered:
            return json_response(google_error(403, GEMINI_NO_KEY), 403)
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            reason = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            return json_response(google_error(400, GEMINI_BAD_KEY, details=[reason]), 400)
        return None

    def _azure_refusal(self, request: Request) -> Response | None:
        """Azure's answers to a request without ``api-version`` or with a wrong ``api-key``."""
        if not request.query_params.get("api-version"):
            return json_response(
                {
                    "error": {
                        "code": "MissingApiVersionParameter",
                        "message": "The api-version query parameter (?api-version=) is required for all requests.",
                    }
                },
                400,
            )
        expected = self._settings.api_key
        if expected is not None and not hmac.compare_digest(
            request.headers.get("api-key", "").encode(), expected.encode()
        ):
            return json_response({"error": {"code": "401", "message": AZURE_UNAUTHORIZED}}, 401)
        return None

    def _anthropic_refusal(self, request: Request) -> Response | None:
        """Anthropic's answers to a request without ``anthropic-version`` or without the key, which it takes as
        ``x-api-key`` or as a bearer token (as its SDK now sends it)."""
        if not request.headers.get("anthropic-version"):
            return json_response(anthropic_error("invalid_request_error", "anthropic-version: header is required"), 400)
        expected = self._settings.api_key
        if expected is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        offered = request.headers.get("x-api-key") or (token if scheme.lower() == "bearer" else "")
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            return json_response(anthropic_error("authentication_error", "invalid x-api-key"), 401)
        return None


class _CutOffResponse(Response):
    """A response that promises more bytes than it sends: the client sees the connection drop mid-body,
    after the request was carried out, as when a network path fails on the way back."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"id": "', "more_body": False})
