"""Gemini's Files API as the gateway serves it: the resumable upload google-genai speaks (``files.py``,
``_api_client.upload_file``), a file's metadata, and the download of its bytes, which is how a batch job's
results file is read.

The upload is two steps, as at Google: a ``start`` with the API key answers an ``x-goog-upload-url`` that names an
unguessable upload id, and the bytes go there, in one or more chunks, without the key: the URL itself authorizes
them. A file is stored in the same store as OpenAI's files, under its Gemini id.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tagging_assets.core.protocol import GEMINI_EXPIRY_SECONDS, MAX_BYTES_PER_GEMINI_FILE
from tagging_assets.gateway.gemini_batches import (
    GEMINI_FILE_PURPOSE,
    GEMINI_RESULTS_PURPOSE,
    file_name,
    file_store_id,
    iso_time,
)
from tagging_assets.gateway.http import GeminiApiError, json_response
from tagging_assets.gateway.paths import GEMINI_PREFIX, GEMINI_VERSIONS
from tagging_assets.gateway.runtime import GatewayRuntime
from tagging_assets.gateway.store import GatewayStore

UPLOADED_NOT_DOWNLOADABLE = "Only generated files can be downloaded, uploaded files can't be downloaded."
"""google-genai's own words for this refusal (``files.py``, ``download``), the closest sourced to Google's."""


@dataclass
class _Upload:
    """An upload started and not yet finalized: where its bytes go and what the start declared."""

    path: Path
    display_name: str | None
    mime_type: str
    declared_bytes: int
    received: int = 0


class GeminiFileRoutes:
    """The routes under ``/upload/{v}/files``, ``/{v}/files`` and ``/download/{v}/files``."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self._runtime = runtime
        self._uploads: dict[str, _Upload] = {}

    def routes(self) -> list[Route]:
        prefix = GEMINI_PREFIX
        return [
            Route(f"{prefix}/upload/{{version}}/files", self.upload, methods=["POST"]),
            Route(f"{prefix}/{{version}}/files/{{file_id}}:download", self.download, methods=["GET"]),
            Route(f"{prefix}/download/{{version}}/files/{{file_id}}:download", self.download, methods=["GET"]),
            Route(f"{prefix}/{{version}}/files/{{file_id}}", self.get_file, methods=["GET"]),
            Route(f"{prefix}/{{version}}/files/{{file_id}}", self.delete_file, methods=["DELETE"]),
        ]

    async def upload(self, request: Request) -> Response:
        version = gemini_version(request)
        command = {part.strip() for part in request.headers.get("x-goog-upload-command", "").split(",")}
        if "start" in command:
            return await self._start(request, version)
        upload_id = request.query_params.get("upload_id", "")
        upload = self._uploads.get(upload_id)
        if upload is None or "upload" not in command:
            raise GeminiApiError(404, "The upload was not found; start it again.")
        offset = request.headers.get("x-goog-upload-offset", "")
        if offset != str(upload.received):
            raise GeminiApiError(400, f"X-Goog-Upload-Offset is {offset or 'missing'}; {upload.received} expected.")
        chunk = await request.body()
        upload.received += len(chunk)
        if upload.received > MAX_BYTES_PER_GEMINI_FILE:
            self._discard(upload_id)
            raise GeminiApiError(400, f"The file is over the {MAX_BYTES_PER_GEMINI_FILE:,} byte limit of a file.")
        await run_in_threadpool(_append, upload.path, chunk)
        if "finalize" not in command:
            return Response(status_code=200, headers={"x-goog-upload-status": "active"})
        self._uploads.pop(upload_id)
        if upload.received != upload.declared_bytes:
            upload.path.unlink(missing_ok=True)
            raise GeminiApiError(
                400, f"The upload ended at {upload.received:,} bytes; its start declared {upload.declared_bytes:,}."
            )
        stored = await run_in_threadpool(self._store_upload, upload)
        return json_response(
            {"file": gemini_file(stored, _base(request), version)}, headers={"x-goog-upload-status": "final"}
        )

    async def _start(self, request: Request, version: str) -> Response:
        if request.headers.get("x-goog-upload-protocol") != "resumable":
            raise GeminiApiError(400, "X-Goog-Upload-Protocol must be resumable.")
        declared = request.headers.get("x-goog-upload-header-content-length", "")
        if not declared.isdigit():
            raise GeminiApiError(400, "X-Goog-Upload-Header-Content-Length is required.")
        if int(declared) > MAX_BYTES_PER_GEMINI_FILE:
            raise GeminiApiError(
                400, f"The file is {int(declared):,} bytes, over the {MAX_BYTES_PER_GEMINI_FILE:,} byte limit."
            )
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise GeminiApiError(400, "Invalid JSON payload received.") from None
        described = body.get("file") if isinstance(body, dict) else None
        described = described if isinstance(described, dict) else {}
        mime_type = (
            described.get("mimeType")
            or request.headers.get("x-goog-upload-header-content-type")
            or "application/octet-stream"
        )
        upload_id = secrets.token_urlsafe(32)
        path = self._runtime.store.files_dir / f".upload-{upload_id}.partial"
        path.write_bytes(b"")
        display = described.get("displayName", described.get("display_name"))
        self._uploads[upload_id] = _Upload(path, display, str(mime_type), int(declared))
        url = f"{_base(request)}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
        return json_response({}, headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"})

    def _store_upload(self, upload: _Upload) -> dict[str, Any]:
        with upload.path.open("rb") as source:
            stored = self._runtime.store.add_file(
                source,
                upload.display_name or upload.path.name,
                GEMINI_FILE_PURPOSE,
                GEMINI_EXPIRY_SECONDS,
                {"mime_type": upload.mime_type, "display_name": upload.display_name},
            )
        upload.path.unlink(missing_ok=True)
        return stored

    def _discard(self, upload_id: str) -> None:
        upload = self._uploads.pop(upload_id)
        upload.path.unlink(missing_ok=True)

    async def get_file(self, request: Request) -> Response:
        version = gemini_version(request)
        return json_response(gemini_file(self._file(request), _base(request), version))

    async def delete_file(self, request: Request) -> Response:
        gemini_version(request)
        stored = self._file(request)
        self._runtime.store.delete_file(stored["id"])
        return json_response({})

    async def download(self, request: Request) -> Response:
        gemini_version(request)
        if request.query_params.get("alt") != "media":
            raise GeminiApiError(400, "A download needs alt=media.")
        stored = self._file(request)
        if stored["purpose"] != GEMINI_RESULTS_PURPOSE:
            raise GeminiApiError(400, UPLOADED_NOT_DOWNLOADABLE, "INVALID_ARGUMENT")
        return FileResponse(self._runtime.store.content_path(stored["id"]), media_type=stored.get("mime_type"))

    def _file(self, request: Request) -> dict[str, Any]:
        """A Gemini file; an OpenAI file under the same id is, to Gemini's API, a file that does not exist."""
        file_id = request.path_params["file_id"]
        stored = gemini_stored_file(self._runtime.store, file_id)
        if stored is None:
            raise GeminiApiError(
                403,
                f"You do not have permission to access the File {file_id} or it may not exist.",
                "PERMISSION_DENIED",
            )
        return stored


def gemini_stored_file(store: GatewayStore, file_id: str) -> dict[str, Any] | None:
    """The stored file Gemini's API may see under ``file_id``: one uploaded through it or a job's results."""
    stored = store.get_file(file_store_id(file_id))
    if stored is None or stored["purpose"] not in (GEMINI_FILE_PURPOSE, GEMINI_RESULTS_PURPOSE):
        return None
    return stored


def gemini_version(request: Request) -> str:
    """The API version of a Gemini path: ``v1`` or ``v1beta``; another is Google's 404."""
    version = str(request.path_params["version"])
    if version not in GEMINI_VERSIONS:
        raise GeminiApiError(404, f"API version {version} is not served; use one of {', '.join(GEMINI_VERSIONS)}.")
    return version


def gemini_file(stored: dict[str, Any], base: str, version: str) -> dict[str, Any]:
    """A stored file as Gemini's ``File`` resource; a batch's results file is ``GENERATED`` and downloadable.
    ``sizeBytes`` is int64, which proto JSON writes as a string."""
    name = file_name(stored["id"])
    created = iso_time(stored["created_at"])
    generated = bool(stored.get("generated"))
    resource: dict[str, Any] = {
        "name": name,
        "displayName": stored.get("display_name") or stored["filename"],
        "mimeType": stored.get("mime_type") or "application/octet-stream",
        "sizeBytes": str(stored["bytes"]),
        "createTime": created,
        "updateTime": created,
        "uri": f"{base}/{version}/{name}",
        "state": "ACTIVE",
        "source": "GENERATED" if generated else "UPLOADED",
    }
    if stored.get("expires_at"):
        resource["expirationTime"] = iso_time(stored["expires_at"])
    if generated:
        resource["downloadUri"] = f"{base}/download/{version}/{name}:download?alt=media"
    return resource


def _append(path: Path, chunk: bytes) -> None:
    with path.open("ab") as target:
        target.write(chunk)


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"
