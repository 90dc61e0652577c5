"""OpenAI's Batch API (``/v1/batches``, and Azure's ``/openai/batches``): create, list, retrieve, cancel."""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tagging_assets.core.protocol import ACTIVE_STATUSES, COMPLETION_WINDOW, MESSAGES
from tagging_assets.gateway.files_routes import no_file
from tagging_assets.gateway.http import ApiError, int_param, json_body, json_response, page
from tagging_assets.gateway.params import expires_after, lowest_expiry, metadata
from tagging_assets.gateway.paths import AZURE_BATCH_ENDPOINTS, BATCH_ENDPOINTS, is_azure
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.store import BatchRow


class BatchRoutes:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime

    def routes(self, prefix: str) -> list[Route]:
        return [
            Route(f"{prefix}/batches", self.create_batch, methods=["POST"]),
            Route(f"{prefix}/batches", self.list_batches, methods=["GET"]),
            Route(f"{prefix}/batches/{{batch_id}}", self.retrieve_batch, methods=["GET"]),
            Route(f"{prefix}/batches/{{batch_id}}/cancel", self.cancel_batch, methods=["POST"]),
        ]

    async def create_batch(self, request: Request) -> Response:
        params = await json_body(request)
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(params.get(name), str):
                raise ApiError(400, f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        served = AZURE_BATCH_ENDPOINTS if is_azure(request.url.path) else BATCH_ENDPOINTS
        if params["endpoint"] not in served:
            raise ApiError(
                400,
                f"Invalid value for 'endpoint': this API serves {', '.join(served)}.",
                "endpoint",
                "invalid_value",
            )
        if params["completion_window"] != COMPLETION_WINDOW:
            raise ApiError(
                400,
                f"Invalid value for 'completion_window': only '{COMPLETION_WINDOW}' is supported.",
                "completion_window",
                "invalid_value",
            )
        pairs = metadata(params.get("metadata"))
        output_expires_after = params.get("output_expires_after")
        output_ttl = None
        if output_expires_after is not None:
            expiry = output_expires_after if isinstance(output_expires_after, dict) else {}
            output_ttl = expires_after(
                expiry.get("anchor"), expiry.get("seconds"), lowest_expiry(request), "output_expires_after"
            )
        input_file = self._runtime.store.get_file(params["input_file_id"])
        if input_file is None:
            raise no_file(params["input_file_id"], "input_file_id")
        if input_file["purpose"] != "batch":
            raise ApiError(400, "The input file must be uploaded with purpose 'batch'.", "input_file_id")
        batch = self._runtime.new_batch(
            "batch_" + secrets.token_hex(16), params["endpoint"], params["input_file_id"], pairs, output_ttl
        )
        return json_response(batch)

    async def list_batches(self, request: Request) -> Response:
        limit = int_param(request.query_params.get("limit"), "limit", 20, 1, 100)
        rows = self._runtime.store.list_batches(request.query_params.get("after"), limit + 1)
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
        store = self._runtime.store
        updated = store.update_batch(batch_id, row.status, status="cancelling", cancelling_at=int(time.time()))
        return json_response((updated or self._batch(batch_id)).object)

    def _batch(self, batch_id: str) -> BatchRow:
        """An OpenAI batch; a Message Batch is Anthropic's and unknown here, as it is to OpenAI."""
        row = self._runtime.store.get_batch(batch_id)
        if row is None or row.object["endpoint"] == MESSAGES:
            raise ApiError(404, f"No batch found with id '{batch_id}'.", "batch_id")
        return row
