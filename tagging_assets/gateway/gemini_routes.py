"""Gemini's Batch API and generateContent as the gateway serves them, under ``/v1`` (google-genai 3.x) and
``/v1beta`` (the REST docs): jobs created, read, listed, cancelled and deleted as the SDK's ``batches.py`` calls
them, answered by the same store, worker and tagger as the other protocols.

Gemini shares ``/v1`` with OpenAI, and even some paths (``/v1/batches/{id}``, ``/v1/files/{id}``), so
``GeminiPaths`` moves a Gemini request under ``/gemini`` before routing: one that carries Gemini's key
(``x-goog-api-key`` or ``?key=``), names a method after a colon (``:batchGenerateContent``, ``:cancel``), or is
under ``/v1beta``, ``/upload`` or ``/download``. OpenAI's and Anthropic's clients send none of these.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tagging_assets.core.protocol import (
    ACTIVE_STATUSES,
    GEMINI_EXPIRY_SECONDS,
    GENERATE_CONTENT,
    MAX_BYTES_INLINE_GEMINI_BATCH,
    MAX_REQUESTS_PER_MESSAGE_BATCH,
    TERMINAL_STATUSES,
)
from tagging_assets.gateway.gemini import model_not_found, served_model
from tagging_assets.gateway.gemini_batches import (
    GEMINI_INPUT_PURPOSE,
    batch_store_id,
    is_gemini_batch,
    operation,
    stored_line,
)
from tagging_assets.gateway.gemini_files import GeminiFileRoutes, gemini_stored_file, gemini_version
from tagging_assets.gateway.http import GeminiApiError, json_response
from tagging_assets.gateway.paths import GEMINI_PREFIX
from tagging_assets.gateway.realtime_routes import RealtimeRoutes
from tagging_assets.gateway.refusals import gemini_enqueued_limit
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.store import BatchRow
from tagging_assets.gateway.tokens import prompt_tokens
from tagging_assets.gateway.upstream import GEMINI_GENERATE_CONTENT, upstream_speaks_openai

GEMINI_ONLY_PREFIXES = ("/v1beta/", "/upload/", "/download/")
BATCH_FIELDS = frozenset({"model", "displayName", "inputConfig", "priority"})
"""``GenerateContentBatch``'s fields a create may set (ai.google.dev/api/batch-api)."""
MOST_GEMINI_REQUESTS = MAX_REQUESTS_PER_MESSAGE_BATCH
"""Gemini publishes no count limit for a job, only its sizes; the gateway takes as many as a Message Batch
unless ``max_lines_per_batch`` says fewer."""


class GeminiPaths:
    """ASGI middleware: moves Gemini's requests under ``GEMINI_PREFIX``, where its routes and the Guard's Gemini
    rules are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _speaks_gemini(scope):
            path = GEMINI_PREFIX + scope["path"]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def _speaks_gemini(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith(GEMINI_ONLY_PREFIXES):
        return True
    if not path.startswith("/v1/"):
        return False
    query = parse_qs(scope.get("query_string", b"").decode())
    headers = {name for name, _ in scope["headers"]}
    return ":" in path or b"x-goog-api-key" in headers or "key" in query


class GeminiRoutes:
    """The Batch API's routes and generateContent; the Files API's routes come with them."""

    def __init__(self, runtime: GatewayRuntime, realtime: RealtimeRoutes) -> None:
        self._runtime = runtime
        self._realtime = realtime
        self._files = GeminiFileRoutes(runtime)

    def routes(self) -> list[Route]:
        prefix = f"{GEMINI_PREFIX}/{{version}}"
        return [
            Route(f"{prefix}/models/{{model}}:batchGenerateContent", self.create_batch, methods=["POST"]),
            Route(f"{prefix}/models/{{model}}:generateContent", self.generate_content, methods=["POST"]),
            Route(f"{prefix}/batches", self.list_batches, methods=["GET"]),
            Route(f"{prefix}/batches/{{job_id}}:cancel", self.cancel_batch, methods=["POST"]),
            Route(f"{prefix}/batches/{{job_id}}", self.get_batch, methods=["GET"]),
            Route(f"{prefix}/batches/{{job_id}}", self.delete_batch, methods=["DELETE"]),
            *self._files.routes(),
        ]

    async def generate_content(self, request: Request) -> Response:
        version = gemini_version(request)
        model = self._model(request, "generateContent", version)
        return await self._realtime.generate_content(request, model)

    async def create_batch(self, request: Request) -> Response:
        """A job from inline requests or an uploaded file, checked whole before it is stored: a body over the
        inline limit, an unknown field, an input that is not a list of ``{request}`` items is refused here with
        Google's 400; each request's own rules are checked as it runs, failing that request alone."""
        version = gemini_version(request)
        model = self._model(request, "batchGenerateContent", version)
        if (upstream := self._runtime.settings.upstream) is not None:
            raise GeminiApiError(
                400, upstream_speaks_openai(upstream, api=GEMINI_GENERATE_CONTENT), "FAILED_PRECONDITION"
            )
        raw = await request.body()
        if len(raw) > MAX_BYTES_INLINE_GEMINI_BATCH:
            raise GeminiApiError(400, f"Request payload size exceeds the limit: {MAX_BYTES_INLINE_GEMINI_BATCH} bytes.")
        batch = _batch_of(raw)
        source = batch.get("inputConfig")
        if not isinstance(source, dict) or len(source) != 1 or not {"fileName", "requests"} & set(source):
            raise GeminiApiError(400, "* batch.input_config: exactly one of file_name or requests is required\n")
        if "fileName" in source:
            input_file = str(source["fileName"])
            items = await run_in_threadpool(self._file_items, input_file)
        else:
            input_file = None
            items = _inline_items(source["requests"])
        most = self._runtime.settings.max_lines_per_batch or MOST_GEMINI_REQUESTS
        if len(items) > most:
            raise GeminiApiError(400, f"The batch has {len(items):,} requests, over the limit of {most:,}.")
        self._refuse_over_enqueued_limit(model, items)
        lines = [json.dumps(stored_line(n, item, from_file=input_file is not None)) for n, item in enumerate(items)]
        content = io.BytesIO(("\n".join(lines) + "\n").encode())
        stored = await run_in_threadpool(
            self._runtime.store.add_file, content, "gemini_batch.jsonl", GEMINI_INPUT_PURPOSE, GEMINI_EXPIRY_SECONDS
        )
        created = self._runtime.new_batch(
            batch_store_id(secrets.token_hex(12)),
            GENERATE_CONTENT.format(model=model),
            stored["id"],
            None,
            None,
            len(lines),
            window_seconds=GEMINI_EXPIRY_SECONDS,
            details={
                "gemini": {
                    "model": model,
                    "displayName": str(batch.get("displayName") or ""),
                    "source": "inline" if input_file is None else "file",
                    "inputFile": input_file,
                }
            },
        )
        return json_response(operation(created, None))

    def _refuse_over_enqueued_limit(self, model: str, items: list[dict[str, Any]]) -> None:
        """Google refuses a job whose prompt tokens would put its model over the enqueued-token limit at create,
        with 429 RESOURCE_EXHAUSTED; jobs created together before any is validated meet the same limit when the
        worker validates them, as every protocol's batches do."""
        limit = self._runtime.settings.enqueued_token_limit
        if limit is None:
            return
        tokens = sum(prompt_tokens(item["request"]) for item in items)
        queued = self._runtime.store.enqueued_tokens(model, excluding="")
        if queued + tokens > limit:
            raise GeminiApiError(429, gemini_enqueued_limit(model, queued + tokens, limit), "RESOURCE_EXHAUSTED")

    def _file_items(self, name: str) -> list[dict[str, Any]]:
        """The lines of an uploaded input file, each ``{"key", "request"}`` (the key is optional)."""
        stored = gemini_stored_file(self._runtime.store, name.removeprefix("files/"))
        if stored is None:
            raise GeminiApiError(404, f"The input file {name} was not found.")
        items = []
        with self._runtime.store.content_path(stored["id"]).open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:
                    item = json.loads(raw)
                except ValueError:
                    raise GeminiApiError(400, f"Line {number} of {name} is not valid JSON.") from None
                if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
                    raise GeminiApiError(400, f'Line {number} of {name} has no "request" object.')
                items.append(item)
        if not items:
            raise GeminiApiError(400, f"The input file {name} holds no requests.")
        return items

    async def get_batch(self, request: Request) -> Response:
        gemini_version(request)
        row = self._job(request)
        return json_response(operation(row.object, await run_in_threadpool(self._inlined, row)))

    async def list_batches(self, request: Request) -> Response:
        """Newest first; ``pageToken`` is the last job of the previous page."""
        gemini_version(request)
        size_param = request.query_params.get("pageSize", "50")
        if not size_param.isdigit():
            raise GeminiApiError(400, f"Invalid value at 'page_size' (TYPE_INT32), \"{size_param}\"")
        size = min(max(int(size_param), 1), 1000)
        token = request.query_params.get("pageToken") or None
        rows = self._runtime.store.list_batches(batch_store_id(token) if token else None, size + 1, gemini=True)
        shown = rows[:size]
        answer: dict[str, Any] = {"operations": [operation(batch, None) for batch in shown]}
        if len(rows) > size:
            answer["nextPageToken"] = shown[-1]["id"].removeprefix(batch_store_id(""))
        return json_response(answer)

    async def cancel_batch(self, request: Request) -> Response:
        """A job pending or running starts cancelling (it ends CANCELLED, with what finished); one that has
        ended is Google's FAILED_PRECONDITION."""
        gemini_version(request)
        row = self._job(request)
        if row.status in TERMINAL_STATUSES:
            raise GeminiApiError(400, f"The batch has already ended ({row.status}).", "FAILED_PRECONDITION")
        if row.status in ACTIVE_STATUSES and row.status != "cancelling":
            self._runtime.store.update_batch(row.id, row.status, status="cancelling", cancelling_at=int(time.time()))
        return json_response({})

    async def delete_batch(self, request: Request) -> Response:
        """A job that has ended is forgotten with the gateway's converted copy of its input (its results file
        stays until deleted); one still running must be cancelled first."""
        gemini_version(request)
        row = self._job(request)
        if row.status not in TERMINAL_STATUSES:
            raise GeminiApiError(400, "The batch is still running; cancel it first.", "FAILED_PRECONDITION")
        self._runtime.store.delete_batch(row.id)
        self._runtime.store.delete_file(row.object["input_file_id"])
        return json_response({})

    def _inlined(self, row: BatchRow) -> list[dict[str, Any]] | None:
        """An inline job's results, from its results file, once written."""
        file_id = row.object.get("output_file_id")
        if row.object["gemini"]["source"] != "inline" or not file_id:
            return None
        with self._runtime.store.content_path(file_id).open("rb") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    def _job(self, request: Request) -> BatchRow:
        job_id = request.path_params["job_id"]
        row = self._runtime.store.get_batch(batch_store_id(job_id))
        if row is None or not is_gemini_batch(row.object):
            raise GeminiApiError(404, f"Batch batches/{job_id} not found.")
        return row

    def _model(self, request: Request, method: str, version: str) -> str:
        name = request.path_params["model"]
        model = served_model(name)
        if model is None or self._runtime.faults.retired(model):
            refusal = model_not_found(name, method, version)
            raise GeminiApiError(refusal.status, str(refusal))
        return model


def _batch_of(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise GeminiApiError(400, "Invalid JSON payload received.") from None
    if not isinstance(body, dict) or not isinstance(body.get("batch"), dict):
        raise GeminiApiError(400, "* batch: batch is required\n")
    for name in body:
        if name != "batch":
            raise GeminiApiError(400, f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    batch: dict[str, Any] = body["batch"]
    for name in batch:
        if name not in BATCH_FIELDS:
            raise GeminiApiError(
                400, f"Invalid JSON payload received. Unknown name \"{name}\" at 'batch': Cannot find field."
            )
    return batch


def _inline_items(requests: Any) -> list[dict[str, Any]]:
    listed = requests.get("requests") if isinstance(requests, dict) else None
    if not isinstance(listed, list) or not listed:
        raise GeminiApiError(400, "* batch.input_config.requests.requests: at least one request is required\n")
    for number, item in enumerate(listed):
        if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
            raise GeminiApiError(400, f"* batch.input_config.requests.requests[{number}].request: required\n")
    return listed
