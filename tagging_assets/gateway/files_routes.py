"""OpenAI's Files API (``/v1/files``, and Azure's ``/openai/files``): upload, list, retrieve, delete, content."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tagging_assets.gateway.gemini_batches import GEMINI_PURPOSES
from tagging_assets.gateway.http import ApiError, int_param, json_response, page
from tagging_assets.gateway.params import expires_after, lowest_expiry
from tagging_assets.gateway.runtime import GatewayRuntime

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
PURPOSES = ("batch", "user_data", "assistants", "fine-tune", "evals", "vision")


def no_file(file_id: str, param: str = "file_id") -> ApiError:
    return ApiError(404, f"No such File object: {file_id}", param)


class FilesRoutes:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime

    def routes(self, prefix: str) -> list[Route]:
        return [
            Route(f"{prefix}/files", self.create_file, methods=["POST"]),
            Route(f"{prefix}/files", self.list_files, methods=["GET"]),
            Route(f"{prefix}/files/{{file_id}}", self.retrieve_file, methods=["GET"]),
            Route(f"{prefix}/files/{{file_id}}", self.delete_file, methods=["DELETE"]),
            Route(f"{prefix}/files/{{file_id}}/content", self.file_content, methods=["GET"]),
        ]

    async def create_file(self, request: Request) -> Response:
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            purpose = form.get("purpose")
            if not isinstance(upload, UploadFile):
                raise ApiError(400, "Missing required parameter: 'file'.", "file", "missing_required_parameter")
            if purpose not in PURPOSES:
                raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}.", "purpose", "invalid_value")
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                raise ApiError(413, f"File is larger than the {MAX_UPLOAD_BYTES:,} byte limit.", "file")
            expiry = expires_after(
                form.get("expires_after[anchor]"), form.get("expires_after[seconds]"), lowest_expiry(request)
            )
            file_object = await run_in_threadpool(
                self._runtime.store.add_file, upload.file, upload.filename or "upload.jsonl", str(purpose), expiry
            )
        return json_response(file_object)

    async def list_files(self, request: Request) -> Response:
        params = request.query_params
        limit = int_param(params.get("limit"), "limit", 10_000, 1, 10_000)
        ascending = params.get("order", "desc") == "asc"
        rows = self._runtime.store.list_files(
            params.get("purpose"), params.get("after"), limit + 1, ascending, hidden_purposes=sorted(GEMINI_PURPOSES)
        )
        return json_response(page(rows, limit))

    async def retrieve_file(self, request: Request) -> Response:
        return json_response(self._file(request.path_params["file_id"]))

    async def delete_file(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if not self._runtime.store.delete_file(file_id):
            raise no_file(file_id)
        return json_response({"id": file_id, "object": "file", "deleted": True})

    async def file_content(self, request: Request) -> Response:
        file_object = self._file(request.path_params["file_id"])
        return FileResponse(self._runtime.store.content_path(file_object["id"]), media_type="application/octet-stream")

    def _file(self, file_id: str) -> dict[str, Any]:
        file_object = self._runtime.store.get_file(file_id)
        if file_object is None:
            raise no_file(file_id)
        return file_object
