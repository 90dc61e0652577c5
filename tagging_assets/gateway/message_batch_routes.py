"""Anthropic's Message Batches, served from the same store and worker as OpenAI's batches: a Message Batch is
stored as a batch of ``/v1/messages`` lines and shown as Anthropic shows it."""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tagging_assets.core.protocol import (
    ACTIVE_STATUSES,
    MAX_BYTES_PER_MESSAGE_BATCH,
    MAX_REQUESTS_PER_MESSAGE_BATCH,
    MESSAGES,
)
from tagging_assets.gateway.http import AnthropicApiError, int_param, json_response, page
from tagging_assets.gateway.messages import CUSTOM_ID, message_batch
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.store import BatchRow
from tagging_assets.gateway.upstream import ANTHROPIC_MESSAGES, upstream_speaks_openai


class MessageBatchRoutes:
    """The routes under ``/v1/messages/batches``."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime

    def routes(self) -> list[Route]:
        return [
            Route(f"{MESSAGES}/batches", self.create_message_batch, methods=["POST"]),
            Route(f"{MESSAGES}/batches", self.list_message_batches, methods=["GET"]),
            Route(f"{MESSAGES}/batches/{{batch_id}}", self.retrieve_message_batch, methods=["GET"]),
            Route(f"{MESSAGES}/batches/{{batch_id}}/cancel", self.cancel_message_batch, methods=["POST"]),
            Route(f"{MESSAGES}/batches/{{batch_id}}/results", self.message_batch_results, methods=["GET"]),
        ]

    async def create_message_batch(self, request: Request) -> Response:
        if (upstream := self._runtime.settings.upstream) is not None:
            raise AnthropicApiError(400, upstream_speaks_openai(upstream, api=ANTHROPIC_MESSAGES))
        raw = await request.body()
        if len(raw) > MAX_BYTES_PER_MESSAGE_BATCH:
            raise AnthropicApiError(413, f"The batch is over the {MAX_BYTES_PER_MESSAGE_BATCH:,} byte limit.")
        try:
            params = json.loads(raw)
        except ValueError:
            raise AnthropicApiError(400, "The request body is not valid JSON.") from None
        requests = params.get("requests") if isinstance(params, dict) else None
        most = self._runtime.settings.max_lines_per_batch or MAX_REQUESTS_PER_MESSAGE_BATCH
        if not isinstance(requests, list) or not 1 <= len(requests) <= most:
            raise AnthropicApiError(400, f"requests: a list of 1 to {most:,} requests is required")
        lines, seen = [], set()
        for number, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
                raise AnthropicApiError(
                    400, f"requests.{number}.custom_id: String should match pattern '{CUSTOM_ID.pattern}'"
                )
            if custom_id in seen:
                raise AnthropicApiError(400, f"requests.{number}.custom_id: {custom_id!r} is not unique in the batch")
            if not isinstance(item.get("params"), dict):
                raise AnthropicApiError(400, f"requests.{number}.params: Field required")
            seen.add(custom_id)
            lines.append(json.dumps({"custom_id": custom_id, "body": item["params"]}))
        content = io.BytesIO(("\n".join(lines) + "\n").encode())
        stored = await run_in_threadpool(
            self._runtime.store.add_file, content, "message_batch.jsonl", "message_batch", None
        )
        batch = self._runtime.new_batch(
            "msgbatch_" + secrets.token_hex(12), MESSAGES, stored["id"], None, None, len(lines)
        )
        return json_response(message_batch(batch, self._results_url(request, batch["id"])))

    async def list_message_batches(self, request: Request) -> Response:
        params = request.query_params
        limit = int_param(params.get("limit"), "limit", 20, 1, 1000)
        rows = self._runtime.store.list_batches(params.get("after_id"), limit + 1, messages=True)
        listed = page([message_batch(row, self._results_url(request, row["id"])) for row in rows], limit)
        return json_response({key: listed[key] for key in ("data", "has_more", "first_id", "last_id")})

    async def retrieve_message_batch(self, request: Request) -> Response:
        row = self._message_batch(request.path_params["batch_id"])
        return json_response(message_batch(row.object, self._results_url(request, row.id)))

    async def cancel_message_batch(self, request: Request) -> Response:
        row = self._message_batch(request.path_params["batch_id"])
        if row.status in ACTIVE_STATUSES and row.status != "cancelling":
            cancelling = self._runtime.store.update_batch(
                row.id, row.status, status="cancelling", cancelling_at=int(time.time())
            )
            row = cancelling or self._message_batch(row.id)
        return json_response(message_batch(row.object, self._results_url(request, row.id)))

    async def message_batch_results(self, request: Request) -> Response:
        row = self._message_batch(request.path_params["batch_id"])
        if row.status in ACTIVE_STATUSES:
            raise AnthropicApiError(404, f"Message Batch {row.id} has not ended; its results are not ready.")
        paths = [
            self._runtime.store.content_path(file_id)
            for file_id in (row.object["output_file_id"], row.object["error_file_id"])
            if file_id
        ]

        def lines() -> Iterator[bytes]:
            for path in paths:
                with path.open("rb") as results:
                    yield from results

        return StreamingResponse(lines(), media_type="application/x-jsonl")

    def _message_batch(self, batch_id: str) -> BatchRow:
        row = self._runtime.store.get_batch(batch_id)
        if row is None or row.object["endpoint"] != MESSAGES:
            raise AnthropicApiError(404, f"Message Batch {batch_id} not found.")
        return row

    @staticmethod
    def _results_url(request: Request, batch_id: str) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{MESSAGES}/batches/{batch_id}/results"
