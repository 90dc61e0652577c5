"""Gemini's Batch API (the Developer API) through google-genai: a shard's requests sent inline when the create
stays under 20 MB, else uploaded as a JSONL file (up to 2 GB); status read from the job's raw JSON; results
downloaded from the job's responses file, or written from its inline responses in the same line shape.

The batch calls (create, get, list) go through the SDK's API client as raw REST JSON, in ``_rest`` alone, for
two reasons read from google-genai 3.6.1's source. The SDK's inline requests are Python ``InlinedRequest``
objects whose ``GenerateContentConfig`` it re-encodes (its schema transformer rewrites a response schema, and
``thinkingConfig``'s inner keys go out in snake case), so a shard's REST request would not reach the API as
written; and it maps neither a job's request counts (``metadata.batchStats``) nor a failed job's ``error`` for the
Developer API. Files (upload, download) and cancel go through the SDK's public calls.

A job is found again by its display name, ``tagging-assets:<submission key>``: Gemini lists a job's display name,
so, unlike Anthropic's Message Batches, a job is found even without the work directory that made it. A create is
not idempotent (a resend makes a second job), so it goes out once at the HTTP level; a create whose answer was
lost is looked for by listing before it is tried again, and after a create that went out more than once the
listing is read once more: a job an earlier attempt made is kept, the later one cancelled before it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import httpx2
from google import genai
from google.genai import errors, types

from tagging_assets.batches.providers.base import (
    LISTED_BATCHES_TO_SEARCH,
    LISTING_PAGE,
    BatchApi,
    MadeBatch,
    ShardSubmission,
)
from tagging_assets.batches.providers.gemini_status import (
    display_name,
    display_name_of,
    inline_responses,
    job_status,
    result_line,
    state_of,
)
from tagging_assets.batches.records import PendingSubmission
from tagging_assets.batches.retries import ATTEMPTS, backoff, write_once
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles
from tagging_assets.core.errors import BatchApiError, BatchError, InputError, UnknownBatchError
from tagging_assets.core.executor import ConnectionLost, HttpAnswer, RealtimeRequest
from tagging_assets.core.protocol import MAX_BYTES_INLINE_GEMINI_BATCH, MAX_BYTES_PER_GEMINI_FILE
from tagging_assets.core.settings import Provider
from tagging_assets.wire.realtime import realtime_call

RETRIED_STATUS_CODES = [408, 429, 500, 502, 503, 504]
"""What the client retries, as the OpenAI and Anthropic SDKs do; google-genai retries nothing unless told."""
FILES_KEPT_SECONDS = 48 * 3600
"""The Files API keeps a file 48 hours ("Files are stored for 48 hours", the note in Google's document-processing
guide); the batch guide gives no other lifetime for a job's responses file, so it is taken to be the same."""
CREATE_BODY_MARGIN = 1000
"""Bytes of a create's body besides its requests (the display name and the JSON around them)."""
CONNECTION_ERRORS = (httpx.TransportError, httpx2.TransportError)
"""What google-genai lets through when the connection fails: the errors of the httpx it was built with."""
RETRIED_BY_THE_SDK = (httpx.ConnectError, httpx.TimeoutException, httpx2.ConnectError, httpx2.TimeoutException)
"""The connection failures google-genai's own retries cover; one dropped mid-answer (``RemoteProtocolError``,
``ReadError``) they do not, where the OpenAI and Anthropic SDKs retry any."""
_ONCE = types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))
"""A call's options that override the client's retries: one attempt (a per-call ``retry_options`` wins in
``BaseApiClient._request``)."""
_UNFINISHED = frozenset({"PENDING", "RUNNING"})
_T = TypeVar("_T")
_GIVEN_UP = frozenset({"FAILED", "CANCELLED"})


def client_for(
    provider: Provider, *, base_url: str | None, api_key: str, api_version: str | None, options: dict[str, Any]
) -> genai.Client:
    """A ``genai.Client`` at ``base_url`` (or the SDK's default), retrying 408, 429 and 5xx ``max_retries``
    times. ``api_version`` is Azure's setting; Gemini's is the SDK's own (``v1``)."""
    retries = options.get("max_retries")
    timeout = options.get("timeout")
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=base_url or None,
            timeout=int(timeout * 1000) if timeout is not None else None,
            retry_options=types.HttpRetryOptions(
                attempts=retries + 1 if retries is not None else None, http_status_codes=RETRIED_STATUS_CODES
            ),
        ),
    )


def error_line(error: BaseException) -> str:
    """The one line a user sees for the SDK's ``error``."""
    if isinstance(error, errors.APIError):
        if error.code in (401, 403) or _is_bad_key(error):
            return "Gemini's API rejected the API key (check GEMINI_API_KEY or GOOGLE_API_KEY)"
        if error.code == 404:
            return f"not found at Gemini's API: {error.message or error.status}"
        return f"Gemini's API answered {error.code}: {error.message or error.status}"
    if isinstance(error, CONNECTION_ERRORS):
        return "cannot reach Gemini's API (check GOOGLE_GEMINI_BASE_URL, or start `tagging-assets gateway`)"
    return str(error)


def _is_bad_key(error: errors.APIError) -> bool:
    """Whether Google refused the key: it answers a wrong key with a 400 whose ``ErrorInfo`` reason is
    ``API_KEY_INVALID``, not with a 401."""
    body = error.details if isinstance(error.details, dict) else {}
    problem = body.get("error", body)
    details = problem.get("details") if isinstance(problem, dict) else None
    return isinstance(details, list) and any(
        isinstance(detail, dict) and detail.get("reason") == "API_KEY_INVALID" for detail in details
    )


@contextmanager
def translated_errors() -> Iterator[None]:
    """The one place google-genai's exceptions (and the httpx errors it lets through) become the project's."""
    try:
        yield
    except errors.APIError as error:
        if error.code == 404:
            raise UnknownBatchError(error_line(error)) from error
        raise BatchApiError(error_line(error)) from error
    except CONNECTION_ERRORS as error:
        raise BatchApiError(error_line(error)) from error


def model_path(model: str) -> str:
    return model if model.startswith("models/") else f"models/{model}"


class GeminiBatches(BatchApi):
    """Gemini's Batch API behind a ``genai.Client``."""

    api_name = "Gemini's Batch API"

    def __init__(self, client: genai.Client, *, provider: Provider = "gemini") -> None:
        self.client = client
        self.provider: Provider = provider
        retries = client._api_client._http_options.retry_options
        self._attempts = (retries.attempts or ATTEMPTS) if retries is not None else 1
        """As many attempts as the client makes, for the failures its retries do not cover."""

    @property
    def base_url(self) -> str:
        return str(self.client._api_client._http_options.base_url or "").rstrip("/")

    def _rest(self, method: str, path: str, body: dict[str, Any] | None = None, *, once: bool = False) -> Any:
        """One REST call through the SDK's API client (its base URL, key, version and retries), its JSON answer
        as sent; ``once`` makes it a single attempt."""
        if once:
            answer = self.client._api_client.request(method, path, body or {}, _ONCE)
        else:
            answer = self._retried(lambda: self.client._api_client.request(method, path, body or {}))
        return json.loads(answer.body) if answer.body else {}

    def _retried(self, call: Callable[[], _T]) -> _T:
        """``call``, made again after a connection dropped mid-answer, which google-genai does not retry; only
        for calls safe to repeat."""
        for attempt in range(self._attempts - 1):
            try:
                return call()
            except CONNECTION_ERRORS as error:
                if isinstance(error, RETRIED_BY_THE_SDK):
                    raise
                time.sleep(backoff(attempt, error))
        return call()

    def _translated(self) -> AbstractContextManager[None]:
        return translated_errors()

    def _retrieve(self, batch_id: str) -> MadeBatch:
        return MadeBatch(status=job_status(self._rest("get", batch_id)))

    def _operations(self) -> Iterator[dict[str, Any]]:
        """Every job's raw JSON, newest first, a page a call."""
        token: str | None = None
        while True:
            query = {"pageSize": LISTING_PAGE} | ({"pageToken": token} if token else {})
            page = self._rest("get", f"batches?{urlencode(query)}")
            yield from page.get("operations") or []
            token = page.get("nextPageToken")
            if not token:
                return

    def _list(self) -> Iterator[BatchStatus]:
        for operation in self._operations():
            yield job_status(operation)

    def _named(self, submission: ShardSubmission) -> list[dict[str, Any]]:
        """The jobs whose display name is the submission's, within the listing searched."""
        name = display_name_of(submission.key)
        found = []
        for number, operation in enumerate(self._operations()):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            if display_name(operation) == name:
                found.append(operation)
        return found

    def _search(self, submission: ShardSubmission) -> MadeBatch | None:
        """The job whose display name is the submission's and that has not failed or been cancelled: found from
        the API alone, without the work directory."""
        live = [operation for operation in self._named(submission) if state_of(operation) not in _GIVEN_UP]
        return MadeBatch(status=job_status(_first_made(live))) if live else None

    def _in_flight_tokens(self, model: str) -> None:
        """Gemini limits enqueued tokens per tier, but its API reports no budget to check against."""
        return None

    def _create(self, submission: ShardSubmission) -> MadeBatch:
        """Create the job once (see the module's docstring), noted as pending before it goes out."""
        shard, records = submission.shard, submission.records
        records.note_pending(PendingSubmission(submission.key, time.time(), shard.requests))
        body = {"batch": {"displayName": display_name_of(submission.key), "inputConfig": self._source(submission)}}
        path = f"{model_path(shard.model)}:batchGenerateContent"

        sent = 0

        def create() -> MadeBatch:
            nonlocal sent
            sent += 1
            return MadeBatch(status=job_status(self._rest("post", path, body, once=True)))

        created = write_once(
            create, lambda: self._find(submission), what="creating the Gemini batch job", describe=error_line
        )
        return self._without_duplicates(submission, created) if sent > 1 else created

    def _without_duplicates(self, submission: ShardSubmission, created: MadeBatch) -> MadeBatch:
        """The first job made for the submission; every later one not yet finished is cancelled before it runs.
        Read only when the create went out more than once: one create makes one job."""
        live = [operation for operation in self._named(submission) if state_of(operation) not in _GIVEN_UP]
        if len(live) <= 1:
            return created
        kept = _first_made(live)
        for duplicate in live:
            if duplicate is not kept and state_of(duplicate) in _UNFINISHED:
                self._cancel(str(duplicate["name"]))
                submission.options.warn(
                    f"cancelled Gemini batch job {duplicate['name']}: the create for {kept['name']} went out twice "
                    "(an answer was lost and the create retried), and this second job was found before it ran"
                )
        return MadeBatch(status=job_status(kept))

    def _cancel(self, job: str) -> None:
        """Cancel the job. A cancel whose answer was lost and was made again finds the job ended, which Gemini
        refuses as FAILED_PRECONDITION: that job is cancelled (or ran out) all the same."""
        try:
            self._retried(lambda: self.client.batches.cancel(name=job))
        except errors.ClientError as error:
            if error.status != "FAILED_PRECONDITION" or state_of(self._rest("get", job)) in _UNFINISHED:
                raise

    def _source(self, submission: ShardSubmission) -> dict[str, Any]:
        """The job's ``inputConfig``: the requests inline while the create's body stays under 20 MB, else the
        shard uploaded as a file. Each inline request keeps its line's key in its ``metadata``, which the
        results echo."""
        path = submission.shard.path
        size = path.stat().st_size
        if size + CREATE_BODY_MARGIN < MAX_BYTES_INLINE_GEMINI_BATCH:
            requests = [{"request": line["request"], "metadata": {"key": line["key"]}} for line in _lines_of(path)]
            inline = {"requests": {"requests": requests}}
            if len(json.dumps(inline).encode()) + CREATE_BODY_MARGIN < MAX_BYTES_INLINE_GEMINI_BATCH:
                return inline
        if size > MAX_BYTES_PER_GEMINI_FILE:
            raise InputError(f"{path.name} is {size:,} bytes, over the 2 GB a Gemini batch's input file may be")
        return {"fileName": self._upload(submission)}

    def _upload(self, submission: ShardSubmission) -> str:
        """Upload the shard (the SDK's resumable upload). An upload whose answer was lost is simply made again:
        a file costs nothing and is gone in 48 hours, and only the job names one."""
        config = types.UploadFileConfig(display_name=display_name_of(submission.key), mime_type="jsonl")
        uploaded = self._retried(lambda: self.client.files.upload(file=submission.shard.path, config=config))
        if not uploaded.name:
            raise BatchError(f"Gemini's API named no file for the upload of {submission.shard.path.name}")
        return uploaded.name

    def _download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """The responses file, or the inline responses written as its lines; a job that ended with neither (it
        expired, failed or was cancelled before any ran) has no output, and its every item is retried."""
        partial = output.with_name(output.name + ".partial")
        if batch.output_file_id:
            self._download_file(batch.output_file_id, partial)
        else:
            lines = [result_line(inline) for inline in inline_responses(self._rest("get", batch.batch_id))]
            if not lines:
                return DownloadedFiles(batch_id=batch.batch_id, status=batch.status, output=None)
            partial.write_text("".join(json.dumps(line) + "\n" for line in lines))
        partial.replace(output)
        return DownloadedFiles(
            batch_id=batch.batch_id, status=batch.status, output=output, output_bytes=output.stat().st_size
        )

    def _download_file(self, file_name: str, target: Path) -> None:
        """Stream the file to ``target`` (the SDK writes it in chunks), starting over if the connection drops
        mid-body."""
        self._retried(lambda: self.client.files.download(file=file_name, destination=str(target)))

    def _model_warning(self, model: str, *, now: float) -> None:
        """Gemini's models list names no shutdown dates."""
        return None

    def _output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """A responses file goes 48 hours after the job ends; inline responses stay with the job."""
        if not batch.output_file_id or batch.finished_at is None:
            return None
        return batch.finished_at + FILES_KEPT_SECONDS - now


def _first_made(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return min(operations, key=lambda operation: (job_status(operation).created_at, str(operation.get("name"))))


def _lines_of(path: Path) -> list[dict[str, Any]]:
    """The shard's request lines, ``{"key", "request"}`` each (prepare wrote and the audit checked them)."""
    with path.open("rb") as lines:
        try:
            return [json.loads(line) for line in lines if line.strip()]
        except ValueError as error:
            raise InputError(f"{path} is not a valid Gemini batch input: {error}") from None


class GeminiRealtime:
    """A realtime or flex job's calls to ``models/{model}:generateContent``, one request line's ``request`` each,
    sent as the line holds it (raw JSON through the SDK's API client, as the batch calls are) and made once: the
    executor owns the retries. The line names no model, so the job's ``model`` is given; flex adds the top-level
    ``serviceTier`` the SDK writes for ``GenerateContentConfig.service_tier``. The custom_id goes out as
    ``X-Client-Request-Id``, as the OpenAI and Anthropic senders name their requests: Google ignores a header it
    does not know, and the local gateway counts each request's arrivals by it."""

    def __init__(self, client: genai.Client, *, model: str, service_tier: str | None, timeout: float) -> None:
        self._client = client
        self._path = f"{model_path(model)}:generateContent"
        self._service_tier = service_tier
        self._timeout = int(timeout * 1000)

    def __call__(self, request: RealtimeRequest) -> HttpAnswer:
        body = dict(realtime_call(request.line).body)
        if self._service_tier is not None:
            body["serviceTier"] = self._service_tier
        try:
            options = types.HttpOptions(
                timeout=self._timeout,
                retry_options=types.HttpRetryOptions(attempts=1),
                headers={"X-Client-Request-Id": request.custom_id},
            )
            answer = self._client._api_client.request("post", self._path, body, options)
        except errors.APIError as error:
            if error.response is not None and hasattr(error.response, "content"):
                return HttpAnswer.of(error.response, None)
            return HttpAnswer(status_code=error.code, body=json.dumps(error.details).encode(), headers={})
        except CONNECTION_ERRORS as error:
            raise ConnectionLost(f"{type(error).__name__}: {error}") from error
        headers = {name.lower(): value for name, value in (answer.headers or {}).items()}
        return HttpAnswer(status_code=200, body=(answer.body or "").encode(), headers=headers)
