"""OpenAI's Batch API, and Azure OpenAI's through ``AzureOpenAI``: the input uploaded once, a batch created from
it once, output and error files downloaded.

``AzureOpenAI`` is an ``OpenAI``: Azure differs in its URLs (``{endpoint}/openai/...?api-version=``), its
``api-key`` header and the deployment its requests name, which the SDK and the settings handle.

A batch is found again by its submission key: first in the work directory's records, then in the batches'
metadata, which survives a lost work directory. The upload is named for its sha256, so it is found again too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal, cast

import openai
from openai import AzureOpenAI, OpenAI
from openai.types import Batch
from openai.types.file_create_params import ExpiresAfter

from tagging_assets.batches.download import stream_to_file
from tagging_assets.batches.providers.base import (
    LISTED_BATCHES_TO_SEARCH,
    LISTING_PAGE,
    BatchApi,
    MadeBatch,
    ShardSubmission,
)
from tagging_assets.batches.providers.openai_status import shutdown_warning, status_of
from tagging_assets.batches.retries import write_once
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles, Shard
from tagging_assets.core.errors import BatchApiError, ConfigError, InputError, UnknownBatchError, api_message
from tagging_assets.core.executor import ConnectionLost, HttpAnswer, RealtimeRequest
from tagging_assets.core.protocol import CHAT_COMPLETIONS, COMPLETION_WINDOW, RESPONSES, TERMINAL_STATUSES
from tagging_assets.core.settings import Provider
from tagging_assets.wire.realtime import realtime_call

_LISTED_FILES_TO_SEARCH = 10_000
BatchEndpoint = Literal["/v1/chat/completions", "/v1/responses"]
"""The endpoints of tagging requests, as the SDK's ``batches.create`` types them."""


def client_for(
    provider: Provider, *, base_url: str | None, api_key: str, api_version: str | None, options: dict[str, Any]
) -> OpenAI:
    """An ``OpenAI`` client at ``base_url`` (or the SDK's default), or an ``AzureOpenAI`` at Azure's endpoint."""
    if provider == "azure":
        if base_url is None:
            raise ConfigError("invalid configuration: AZURE_OPENAI_ENDPOINT is not set")
        return AzureOpenAI(azure_endpoint=base_url, api_key=api_key, api_version=api_version, **options)
    return OpenAI(base_url=base_url, api_key=api_key, **options)


def error_line(error: BaseException) -> str:
    """The one line a user sees for the SDK's ``error``."""
    if isinstance(error, openai.AuthenticationError):
        return "the Batch API rejected the API key (check OPENAI_API_KEY, or AZURE_OPENAI_API_KEY on Azure)"
    if isinstance(error, openai.NotFoundError):
        return f"not found at the Batch API: {api_message(error.body, error.message)}"
    if isinstance(error, openai.APIStatusError):
        return f"the Batch API answered {error.status_code}: {api_message(error.body, error.message)}"
    if isinstance(error, openai.APIConnectionError):
        return "cannot reach the Batch API (check OPENAI_BASE_URL, or start `tagging-assets gateway`)"
    return str(error)


@contextmanager
def translated_errors() -> Iterator[None]:
    """The one place the OpenAI SDK's exceptions become the project's."""
    try:
        yield
    except openai.NotFoundError as error:
        raise UnknownBatchError(error_line(error)) from error
    except openai.OpenAIError as error:
        raise BatchApiError(error_line(error)) from error


class OpenAIBatches(BatchApi):
    """The Batch API behind an ``OpenAI`` (or ``AzureOpenAI``) client."""

    def __init__(self, client: OpenAI, *, provider: Provider = "openai") -> None:
        self.client = client
        self.provider: Provider = provider

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    @property
    def _once(self) -> OpenAI:
        """The client without the SDK's own retries, for calls that must not happen twice."""
        return self.client.with_options(max_retries=0)

    def _translated(self) -> AbstractContextManager[None]:
        return translated_errors()

    def _retrieve(self, batch_id: str) -> MadeBatch:
        return _made(self.client.batches.retrieve(batch_id))

    def _list(self) -> Iterator[BatchStatus]:
        for batch in self.client.batches.list(limit=LISTING_PAGE):
            yield status_of(batch)

    def _search(self, submission: ShardSubmission) -> MadeBatch | None:
        """The batch whose metadata names the submission key, and not failed: found even without the work
        directory."""
        for number, batch in enumerate(self.client.batches.list(limit=LISTING_PAGE)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            if (batch.metadata or {}).get("submission_key") == submission.key and batch.status != "failed":
                return _made(batch)
        return None

    def _in_flight_tokens(self, model: str) -> int:
        total = 0
        for number, batch in enumerate(self.client.batches.list(limit=LISTING_PAGE)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            metadata = batch.metadata or {}
            if batch.status not in TERMINAL_STATUSES and metadata.get("model") == model:
                total += int(metadata.get("input_tokens", "0") or 0)
        return total

    def _create(self, submission: ShardSubmission) -> MadeBatch:
        return self._create_batch(self._upload(submission), submission)

    def _upload(self, submission: ShardSubmission) -> str:
        """Upload the input once: an upload named for its sha256 is found again instead of repeated."""
        path = submission.shard.path
        filename = f"batch-input-{submission.sha256}.jsonl"
        size = path.stat().st_size

        def find() -> str | None:
            for number, uploaded in enumerate(self.client.files.list(purpose="batch")):
                if number >= _LISTED_FILES_TO_SEARCH:
                    break
                if uploaded.filename == filename and uploaded.bytes == size:
                    return uploaded.id
            return None

        def upload() -> str:
            with path.open("rb") as content:
                expires: ExpiresAfter = {"anchor": "created_at", "seconds": submission.options.file_ttl_seconds}
                return self._once.files.create(file=(filename, content), purpose="batch", expires_after=expires).id

        return find() or write_once(upload, find, what=f"uploading {path.name}", describe=error_line)

    def _batch_endpoint(self, shard: Shard) -> BatchEndpoint:
        """The ``endpoint`` a batch is created with. Azure's global-batch guide creates it as
        ``/chat/completions`` (its service reads each line's ``url``); the SDK's type spells only OpenAI's."""
        if shard.endpoint not in (CHAT_COMPLETIONS, RESPONSES):
            raise InputError(
                f"{shard.path.name} holds {shard.endpoint} requests, which the OpenAI Batch API does not take"
            )
        return cast(BatchEndpoint, shard.endpoint.removeprefix("/v1") if self.provider == "azure" else shard.endpoint)

    def _create_batch(self, input_file_id: str, submission: ShardSubmission) -> MadeBatch:
        """Create the batch from the upload once, its metadata naming the submission key so that a create whose
        response was lost is found before it is tried again."""
        shard, ttl = submission.shard, submission.options.file_ttl_seconds
        metadata = {
            "input_sha256": submission.sha256,
            "submission_key": submission.key,
            "submission_id": submission.submission_id or str(uuid.uuid4()),
            "collection": submission.options.collection,
            "model": shard.model,
            "prompt_version": shard.prompt_version,
            "requests": str(shard.requests),
            "input_tokens": str(shard.input_tokens),
            "output_ttl_seconds": str(ttl),
        }
        endpoint = self._batch_endpoint(shard)

        def create() -> MadeBatch:
            return _made(
                self._once.batches.create(
                    input_file_id=input_file_id,
                    endpoint=endpoint,
                    completion_window=COMPLETION_WINDOW,
                    metadata=metadata,
                    output_expires_after={"anchor": "created_at", "seconds": ttl},
                )
            )

        return write_once(create, lambda: self._find(submission), what="creating the batch", describe=error_line)

    def _download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream the output file to ``output`` and the error file beside it (``*.errors.jsonl``)."""
        errors = output.with_name(output.stem + ".errors.jsonl")
        found: dict[str, Path | None] = {"output": None, "errors": None}
        for key, file_id, target in (("output", batch.output_file_id, output), ("errors", batch.error_file_id, errors)):
            if file_id:
                self._download_file(file_id, target)
                found[key] = target
        return DownloadedFiles(
            batch_id=batch.batch_id,
            status=batch.status,
            output=found["output"],
            errors=found["errors"],
            output_bytes=output.stat().st_size if found["output"] else 0,
            errors_bytes=errors.stat().st_size if found["errors"] else 0,
        )

    def _download_file(self, file_id: str, target: Path) -> None:
        stream_to_file(lambda: self.client.files.with_streaming_response.content(file_id), target, what=file_id)

    def _model_warning(self, model: str, *, now: float) -> str | None:
        """What the models list announces of ``model``; a model it does not list is a warning, since submitting
        would fail. Azure retires models per deployment, which its models list does not tell, so there it says
        nothing."""
        if self.provider == "azure":
            return None
        try:
            listed = self.client.models.retrieve(model)
        except openai.NotFoundError:
            return f"the Batch API at {self.base_url} does not list the model {model} (TAGGING_MODEL)"
        return shutdown_warning(model, listed, now=now)

    def _output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """When the output file expires. The output is written as the batch finishes, so the TTL the submission
        recorded in the batch's metadata says when; only a batch without it costs a call for its file."""
        if not batch.output_file_id:
            return None
        ttl = batch.metadata.get("output_ttl_seconds", "")
        if ttl.isdigit() and batch.finished_at is not None:
            return batch.finished_at + int(ttl) - now
        expires_at = self.client.files.retrieve(batch.output_file_id).expires_at
        return None if expires_at is None else expires_at - now


def _made(batch: Batch) -> MadeBatch:
    return MadeBatch(status=status_of(batch), input_file_id=batch.input_file_id)


class OpenAIRealtime:
    """A realtime or flex job's calls to OpenAI's (or Azure's) realtime endpoint, one request line each.

    The executor owns the retry policy, so the client here makes one attempt (``max_retries=0``) and every answer,
    a refusal included, goes back to it as it came. ``model`` replaces the line's (Azure's standard deployment);
    ``service_tier`` is ``flex`` for flex jobs, with the 15-minute timeout OpenAI's flex guide sets. The line's
    custom_id goes out as ``X-Client-Request-Id``, which OpenAI lets a client name its request by."""

    def __init__(self, client: OpenAI, *, model: str | None, service_tier: str | None, timeout: float) -> None:
        self._client = client.with_options(max_retries=0, timeout=timeout)
        self._model = model
        self._service_tier = service_tier

    def __call__(self, request: RealtimeRequest) -> HttpAnswer:
        call = realtime_call(request.line)
        body = dict(call.body)
        if self._model is not None:
            body["model"] = self._model
        if self._service_tier is not None:
            body["service_tier"] = self._service_tier
        headers = {"X-Client-Request-Id": request.custom_id}
        try:
            if call.endpoint == RESPONSES:
                raw: Any = self._client.responses.with_raw_response.create(**body, extra_headers=headers)
            else:
                raw = self._client.chat.completions.with_raw_response.create(**body, extra_headers=headers)
        except openai.APIStatusError as error:
            return HttpAnswer.of(error.response, error.request_id)
        except openai.APIConnectionError as error:
            raise ConnectionLost(f"{type(error).__name__}: {error}") from error
        return HttpAnswer.of(raw.http_response, raw.request_id)
