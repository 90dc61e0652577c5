"""Downloading a finished batch's output and error files to disk."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import httpx2
from openai import OpenAI

from tagging_assets.batches.retries import ATTEMPTS, backoff, unknown_outcome
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles
from tagging_assets.core.errors import BatchError


class StreamedResponse(Protocol):
    """A streamed body, as either SDK's ``with_streaming_response`` gives it."""

    def iter_bytes(self) -> Iterator[bytes]: ...


def download_results(client: OpenAI, batch: BatchStatus, output: Path, *, attempts: int = ATTEMPTS) -> DownloadedFiles:
    """Stream the output file to ``output`` and the error file beside it (``*.errors.jsonl``)."""
    if not batch.finished:
        raise BatchError(f"batch {batch.batch_id} is still {batch.status}; its results are not ready")
    errors = output.with_name(output.stem + ".errors.jsonl")
    output.parent.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path | None] = {"output": None, "errors": None}
    for key, file_id, target in (("output", batch.output_file_id, output), ("errors", batch.error_file_id, errors)):
        if file_id:
            _download(client, file_id, target, attempts)
            found[key] = target
    return DownloadedFiles(
        batch_id=batch.batch_id,
        status=batch.status,
        output=found["output"],
        errors=found["errors"],
        output_bytes=output.stat().st_size if found["output"] else 0,
        errors_bytes=errors.stat().st_size if found["errors"] else 0,
    )


def _download(client: OpenAI, file_id: str, target: Path, attempts: int) -> None:
    stream_to_file(
        lambda: client.files.with_streaming_response.content(file_id), target, what=file_id, attempts=attempts
    )


def stream_to_file(
    open_response: Callable[[], AbstractContextManager[StreamedResponse]],
    target: Path,
    *,
    what: str,
    attempts: int = ATTEMPTS,
) -> None:
    """Stream a response body to disk, starting over if the connection drops mid-body (which the SDK's
    retries cannot cover once a streamed response has begun); the file appears only when complete."""
    partial = target.with_name(target.name + ".partial")
    retried: tuple[type[Exception], ...] = (*unknown_outcome(), httpx2.TransportError)
    error: Exception | None = None
    for attempt in range(attempts):
        try:
            with open_response() as response, partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
            partial.replace(target)
            return
        except retried as failure:
            error = failure
        time.sleep(backoff(attempt, error))
    raise BatchError(f"downloading {what} failed {attempts} times; the last error: {error}")
