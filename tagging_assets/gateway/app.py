"""The HTTP face of the gateway: OpenAI's Files, Batches, Models, Chat Completions
and Responses endpoints under ``/v1``, with OpenAI's objects, errors and status codes, so that
the official ``openai`` SDK talks to it as it talks to the real API.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tagging_assets.gateway.completions import CHAT_COMPLETIONS, RESPONSES, request_id
from tagging_assets.gateway.http import ApiError, int_param, json_response, page
from tagging_assets.gateway.message_batches import MessageBatchesApi
from tagging_assets.gateway.messages import MESSAGES, anthropic_error
from tagging_assets.gateway.models import SNAPSHOTS, error_body
from tagging_assets.gateway.pool import TaggerPool
from tagging_assets.gateway.settings import GatewaySettings
from tagging_assets.gateway.store import ACTIVE_STATUSES, GatewayStore
from tagging_assets.gateway.worker import BatchWorker

SUPPORTED_ENDPOINTS = (CHAT_COMPLETIONS, RESPONSES)
AZURE_ENDPOINTS = ("/chat/completions", "/responses", *SUPPORTED_ENDPOINTS)
"""Azure's global-batch guide creates batches with ``/chat/completions``; its v1 paths take OpenAI's spelling."""
OPENAI_PREFIX, AZURE_PREFIX = "/v1", "/openai"
AZURE_UNAUTHORIZED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
_ID = re.compile(r"/(?:msgbatch_|batch_|file-)[A-Za-z0-9]+")
COMPLETION_WINDOW_SECONDS = 24 * 60 * 60
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
MIN_EXPIRY_SECONDS, MAX_EXPIRY_SECONDS = 3600, 30 * 86_400
"""OpenAI's bounds for ``expires_after`` and ``output_expires_after``: one hour to 30 days."""
AZURE_MIN_EXPIRY_SECONDS = 14 * 86_400
"""Azure's lower bound for both: 14 days (its global-batch limits)."""


def build_app(settings: GatewaySettings) -> Starlette:
    """The ASGI app for one gateway instance; its worker runs while the app is served."""
    api = GatewayApi(settings)
    anthropic = MessageBatchesApi(api)
    routes = [
        Route("/health", api.health, methods=["GET"]),
        Route("/stats", api.stats, methods=["GET"]),
        *_api_routes(OPENAI_PREFIX, api),
        *_api_routes(AZURE_PREFIX, api),
        Route(f"{AZURE_PREFIX}/deployments/{{deployment}}/chat/completions", api.chat_completion, methods=["POST"]),
        Route(MESSAGES, anthropic.message, methods=["POST"]),
        Route(f"{MESSAGES}/batches", anthropic.create_message_batch, methods=["POST"]),
        Route(f"{MESSAGES}/batches", anthropic.list_message_batches, methods=["GET"]),
        Route(f"{MESSAGES}/batches/{{batch_id}}", anthropic.retrieve_message_batch, methods=["GET"]),
        Route(f"{MESSAGES}/batches/{{batch_id}}/cancel", anthropic.cancel_message_batch, methods=["POST"]),
        Route(f"{MESSAGES}/batches/{{batch_id}}/results", anthropic.message_batch_results, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=api.lifespan,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=api.guard)],
        exception_handlers={ApiError: _api_error},
    )


def _api_routes(prefix: str, api: GatewayApi) -> list[Route]:
    """OpenAI's routes under ``/v1``, and the same under Azure OpenAI's ``/openai`` (its data-plane paths for
    files, batches and responses, which the ``AzureOpenAI`` client calls with ``?api-version=``)."""
    return [
        Route(f"{prefix}/models", api.list_models, methods=["GET"]),
        Route(f"{prefix}/models/{{model:path}}", api.retrieve_model, methods=["GET"]),
        Route(f"{prefix}/files", api.create_file, methods=["POST"]),
        Route(f"{prefix}/files", api.list_files, methods=["GET"]),
        Route(f"{prefix}/files/{{file_id}}", api.retrieve_file, methods=["GET"]),
        Route(f"{prefix}/files/{{file_id}}", api.delete_file, methods=["DELETE"]),
        Route(f"{prefix}/files/{{file_id}}/content", api.file_content, methods=["GET"]),
        Route(f"{prefix}/batches", api.create_batch, methods=["POST"]),
        Route(f"{prefix}/batches", api.list_batches, methods=["GET"]),
        Route(f"{prefix}/batches/{{batch_id}}", api.retrieve_batch, methods=["GET"]),
        Route(f"{prefix}/batches/{{batch_id}}/cancel", api.cancel_batch, methods=["POST"]),
        Route(f"{prefix}/chat/completions", api.chat_completion, methods=["POST"]),
        Route(f"{prefix}/responses", api.response, methods=["POST"]),
    ]


async def _api_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return json_response(error.body, error.status)


class GatewayApi:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.faults = settings.faults
        self.store: GatewayStore
        self.pool: TaggerPool
        self._requests = itertools.count(1)
        self._served: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.store = GatewayStore(self.settings.state_dir)
        self.pool = TaggerPool(self.settings.workers)
        worker = BatchWorker(self.store, self.settings, self.pool)
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            self.pool.shutdown()
            self.store.close()

    async def guard(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Authentication, injected API faults, and OpenAI-shaped errors for every ``/v1`` and ``/openai``
        request; each protocol's credentials are checked as its API checks them."""
        azure = request.url.path.startswith(f"{AZURE_PREFIX}/")
        anthropic = request.url.path.startswith(MESSAGES)
        if not azure and not request.url.path.startswith(f"{OPENAI_PREFIX}/"):
            return await call_next(request)
        refused = self._azure_refusal(request) if azure else self._anthropic_refusal(request) if anthropic else None
        if refused is not None:
            return refused
        if not (azure or anthropic) and self.settings.api_key is not None:
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
            if not hmac.compare_digest(token.encode(), self.settings.api_key.encode()):
                return json_response(
                    error_body("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"),
                    401,
                )
        number = next(self._requests)
        self._served[f"{request.method} {_ID.sub('/{id}', request.url.path)}"] += 1
        if self.faults.latency_seconds:
            await asyncio.sleep(self.faults.latency_seconds)
        if self.faults.rate_limit_every and number % self.faults.rate_limit_every == 0:
            seconds = self.faults.retry_after_seconds
            message = "Rate limit reached for requests (injected fault)."
            body = (
                anthropic_error("rate_limit_error", message)
                if anthropic
                else error_body(message, "requests", None, "rate_limit_exceeded")
            )
            return json_response(body, 429, {"retry-after": f"{seconds:g}", "retry-after-ms": str(int(seconds * 1000))})
        if self.faults.server_error_every and number % self.faults.server_error_every == 0:
            message = "The server had an error while processing your request (injected fault)."
            body = anthropic_error("api_error", message) if anthropic else error_body(message, "server_error")
            return json_response(body, 500)
        response = await call_next(request)
        if self.faults.disconnect_every and number % self.faults.disconnect_every == 0:
            return _CutOffResponse()
        return response

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
        expected = self.settings.api_key
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
        expected = self.settings.api_key
        if expected is None:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        offered = request.headers.get("x-api-key") or (token if scheme.lower() == "bearer" else "")
        if not hmac.compare_digest(offered.encode(), expected.encode()):
            return json_response(anthropic_error("authentication_error", "invalid x-api-key"), 401)
        return None

    async def health(self, _request: Request) -> Response:
        return json_response({"status": "ok"})

    async def stats(self, _request: Request) -> Response:
        """API requests served since start, by method and route: what a client really asked for; and every
        batch of either protocol with its status and request counts as the worker sees them (Anthropic shows
        no progress until a batch ends)."""
        rows = [*self.store.list_batches(None, 10_000), *self.store.list_batches(None, 10_000, messages=True)]
        batches = {row["id"]: {"status": row["status"], **row["request_counts"]} for row in rows}
        return json_response({"requests": dict(self._served), "batches": batches})

    async def list_models(self, _request: Request) -> Response:
        """Every served model and snapshot; a model with a shutdown date set carries it, as OpenAI lists them."""
        names = [name for pair in SNAPSHOTS.items() for name in pair]
        return json_response({"object": "list", "data": [self._model(name) for name in names]})

    async def retrieve_model(self, request: Request) -> Response:
        model = request.path_params["model"]
        if model not in SNAPSHOTS and model not in SNAPSHOTS.values():
            raise ApiError(404, f"The model '{model}' does not exist", "model", "model_not_found")
        return json_response(self._model(model))

    def _model(self, name: str) -> dict[str, Any]:
        shutdown = self.faults.shutdown_date(name)
        return {
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": "system",
            "shutdown_date": shutdown.isoformat() if shutdown else None,
        }

    # files

    async def create_file(self, request: Request) -> Response:
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            purpose = form.get("purpose")
            if not isinstance(upload, UploadFile):
                raise ApiError(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter")
            if purpose not in ("batch", "user_data", "assistants", "fine-tune", "evals", "vision"):
                raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}.", "purpose", "invalid_value")
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                raise ApiError(413, f"File is larger than the {MAX_UPLOAD_BYTES:,} byte limit.", "file")
            expires_after = _expires_after(
                form.get("expires_after[anchor]"), form.get("expires_after[seconds]"), _lowest_expiry(request)
            )
            file_object = await run_in_threadpool(
                self.store.add_file, upload.file, upload.filename or "upload.jsonl", str(purpose), expires_after
            )
        return json_response(file_object)

    async def list_files(self, request: Request) -> Response:
        params = request.query_params
        limit = int_param(params.get("limit"), "limit", 10_000, 1, 10_000)
        ascending = params.get("order", "desc") == "asc"
        rows = self.store.list_files(params.get("purpose"), params.get("after"), limit + 1, ascending)
        return json_response(page(rows, limit))

    async def retrieve_file(self, request: Request) -> Response:
        return json_response(self._file(request.path_params["file_id"]))

    async def delete_file(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if not self.store.delete_file(file_id):
            raise _no_file(file_id)
        return json_response({"id": file_id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        file_object = self._file(request.path_params["file_id"])
        return FileResponse(self.store.content_path(file_object["id"]), media_type="application/octet-stream")

    def _file(self, file_id: str) -> dict[str, Any]:
        file_object = self.store.get_file(file_id)
        if file_object is None:
            raise _no_file(file_id)
        return file_object

    # batches

    async def create_batch(self, request: Request) -> Response:
        params = await _json_body(request)
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(params.get(name), str):
                raise ApiError(400, f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        served = AZURE_ENDPOINTS if request.url.path.startswith(AZURE_PREFIX) else SUPPORTED_ENDPOINTS
        if params["endpoint"] not in served:
            raise ApiError(
                400,
                f"Invalid value for 'endpoint': this API serves {', '.join(served)}.",
                "endpoint",
                "invalid_value",
            )
        if params["completion_window"] != "24h":
            raise ApiError(
                400,
                "Invalid value for 'completion_window': only '24h' is supported.",
                "completion_window",
                "invalid_value",
            )
        metadata = _metadata(params.get("metadata"))
        output_expires_after = params.get("output_expires_after")
        output_ttl = None
        if output_expires_after is not None:
            expiry = output_expires_after if isinstance(output_expires_after, dict) else {}
            output_ttl = _expires_after(
                expiry.get("anchor"), expiry.get("seconds"), _lowest_expiry(request), "output_expires_after"
            )
        input_file = self.store.get_file(params["input_file_id"])
        if input_file is None:
            raise _no_file(params["input_file_id"], "input_file_id")
        if input_file["purpose"] != "batch":
            raise ApiError(400, "The input file must be uploaded with purpose 'batch'.", "input_file_id")
        batch = self.new_batch(
            "batch_" + secrets.token_hex(16), params["endpoint"], params["input_file_id"], metadata, output_ttl
        )
        return json_response(batch)

    def new_batch(
        self,
        batch_id: str,
        endpoint: str,
        input_file_id: str,
        metadata: dict[str, str] | None,
        output_ttl: int | None,
        total: int = 0,
    ) -> dict[str, Any]:
        """A batch in ``validating``, stored for the worker to move on."""
        created = time.time()
        window = self.faults.expire_after_seconds or COMPLETION_WINDOW_SECONDS
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "model": None,
            "errors": None,
            "input_file_id": input_file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(created),
            "in_progress_at": None,
            "expires_at": int(created + window),
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": total, "completed": 0, "failed": 0},
            "usage": {
                "input_tokens": 0,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 0,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 0,
            },
            "metadata": metadata,
        }
        self.store.add_batch(batch, deadline=created + window, output_ttl=output_ttl)
        return batch

    async def list_batches(self, request: Request) -> Response:
        limit = int_param(request.query_params.get("limit"), "limit", 20, 1, 100)
        rows = self.store.list_batches(request.query_params.get("after"), limit + 1)
        return json_response(page(rows, limit))

    async def retrieve_batch(self, request: Request) -> Response:
        return json_response(self._batch(request.path_params["batch_id"]).object)

    async def cancel_batch(self, request: Request) -> Response:
        batch_id = request.path_params["batch_id"]
        row = self._batch(batch_id)
        if row.status == "cancelling":
            return json_response(row.object)
        if row.status not in ACTIVE_STATUSES or row.status == "finalizing":
            raise ApiError(409, f"Cannot cancel a batch with status '{row.status}'.")
        updated = self.store.update_batch(batch_id, row.status, status="cancelling", cancelling_at=int(time.time()))
        return json_response((updated or self._batch(batch_id)).object)

    def _batch(self, batch_id: str) -> Any:
        """An OpenAI batch; a Message Batch is Anthropic's and unknown here, as it is to OpenAI."""
        row = self.store.get_batch(batch_id)
        if row is None or row.object["endpoint"] == MESSAGES:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", "batch_id")
        return row

    # realtime

    async def chat_completion(self, request: Request) -> Response:
        return await self.realtime(CHAT_COMPLETIONS, request)

    async def response(self, request: Request) -> Response:
        return await self.realtime(RESPONSES, request)

    async def realtime(self, endpoint: str, request: Request) -> Response:
        body = await _json_body(request)
        key = request_id(f"realtime:{time.time_ns()}")
        status, reply = await self.pool.run((endpoint, body, key, self.settings.tagger, self.faults, None))
        return json_response(reply, status)


class _CutOffResponse(Response):
    """A response that promises more bytes than it sends: the client sees the connection drop mid-body,
    after the request was carried out, as when a network path fails on the way back."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"id": "', "more_body": False})


def _no_file(file_id: str, param: str = "file_id") -> ApiError:
    return ApiError(404, f"No such File object: {file_id}", param)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def _metadata(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_METADATA_PAIRS:
        raise ApiError(400, f"'metadata' must be an object of at most {MAX_METADATA_PAIRS} pairs.", "metadata")
    for key, value in raw.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise ApiError(
                400,
                f"Invalid metadata pair {key[:MAX_METADATA_KEY]!r}: keys hold at most {MAX_METADATA_KEY} characters, "
                f"values are strings of at most {MAX_METADATA_VALUE}.",
                "metadata",
            )
    return raw


def _lowest_expiry(request: Request) -> int:
    return AZURE_MIN_EXPIRY_SECONDS if request.url.path.startswith(AZURE_PREFIX) else MIN_EXPIRY_SECONDS


def _expires_after(anchor: Any, seconds: Any, lowest: int, param: str = "expires_after") -> int | None:
    """Seconds after ``created_at`` at which a file expires, as ``expires_after`` and ``output_expires_after``
    say, within the API's bounds (``lowest`` to 30 days)."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise ApiError(400, f"Invalid value for '{param}.anchor': must be 'created_at'.", param, "invalid_value")
    try:
        value = int(str(seconds))
    except ValueError:
        raise ApiError(400, f"Invalid value for '{param}.seconds'.", param, "invalid_value") from None
    if not lowest <= value <= MAX_EXPIRY_SECONDS:
        raise ApiError(
            400,
            f"Invalid value for '{param}.seconds': must be between {lowest} and {MAX_EXPIRY_SECONDS}.",
            param,
            "invalid_value",
        )
    return value
