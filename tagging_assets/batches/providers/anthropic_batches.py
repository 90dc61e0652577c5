"""Anthropic's Message Batches: requests sent inline (no upload), status read from ``processing_status`` and
``request_counts``, results streamed from the batch's ``results_url``.

A Message Batch carries no metadata, so it is found again from the work directory alone. Before a create goes
out, a pending note records the submission key, when the create began and how many requests it sends. A batch
the API lists as created since then (less five minutes of clock skew), with as many requests, not cancelled and
claimed by no record, is that create's batch. When the create went out more than once (a response lost, then a
retry), the first batch made is kept and every other is cancelled as soon as it is found, before it has run.
Without the work directory there is nothing to find a batch by, and the input would be submitted again.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any, cast

import anthropic
import httpx2
from anthropic import Anthropic
from anthropic.resources.messages import Messages
from anthropic.types.messages import MessageBatch
from anthropic.types.messages.batch_create_params import Request

from tagging_assets.batches.download import stream_to_file
from tagging_assets.batches.providers.base import (
    LISTED_BATCHES_TO_SEARCH,
    LISTING_PAGE,
    BatchApi,
    MadeBatch,
    ShardSubmission,
)
from tagging_assets.batches.records import PendingSubmission
from tagging_assets.batches.retries import write_once
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles
from tagging_assets.core.errors import BatchApiError, BatchError, InputError, UnknownBatchError, api_message
from tagging_assets.core.executor import ConnectionLost, HttpAnswer, RealtimeRequest
from tagging_assets.core.protocol import MESSAGES
from tagging_assets.core.settings import Provider
from tagging_assets.wire.realtime import realtime_call

RESULTS_KEPT_SECONDS = 29 * 86_400
"""Anthropic keeps a batch's results for 29 days after its creation."""
CLOCK_SKEW_SECONDS = 300


def client_for(
    provider: Provider, *, base_url: str | None, api_key: str, api_version: str | None, options: dict[str, Any]
) -> Anthropic:
    """An ``Anthropic`` client at ``base_url``, or at the SDK's default; Anthropic's API has no versions to name."""
    return Anthropic(base_url=base_url, api_key=api_key, **options)


def error_line(error: BaseException) -> str:
    """The one line a user sees for the SDK's ``error``."""
    if isinstance(error, anthropic.AuthenticationError):
        return "Anthropic's API rejected the API key (check ANTHROPIC_API_KEY)"
    if isinstance(error, anthropic.NotFoundError):
        return f"not found at Anthropic's API: {api_message(error.body, error.message)}"
    if isinstance(error, anthropic.APIStatusError):
        return f"Anthropic's API answered {error.status_code}: {api_message(error.body, error.message)}"
    if isinstance(error, anthropic.APIConnectionError):
        return "cannot reach Anthropic's API (check ANTHROPIC_BASE_URL, or start `tagging-assets gateway`)"
    return str(error)


@contextmanager
def translated_errors() -> Iterator[None]:
    """The one place the Anthropic SDK's exceptions become the project's."""
    try:
        yield
    except anthropic.NotFoundError as error:
        raise UnknownBatchError(error_line(error)) from error
    except anthropic.AnthropicError as error:
        raise BatchApiError(error_line(error)) from error


def message_batch_status(batch: MessageBatch) -> BatchStatus:
    """A Message Batch in the library's terms. Anthropic counts every request as ``processing`` until the whole
    batch has ended, so progress reads 0% until then; an ended batch is ``cancelled`` once a cancel began,
    ``expired`` when requests expired, else ``completed``."""
    counts = batch.request_counts
    unfinished = counts.errored + counts.canceled + counts.expired
    total = counts.processing + counts.succeeded + unfinished
    if batch.processing_status != "ended":
        status = "cancelling" if batch.processing_status == "canceling" else "in_progress"
    elif batch.cancel_initiated_at is not None:
        status = "cancelled"
    elif counts.expired:
        status = "expired"
    else:
        status = "completed"
    return BatchStatus(
        batch_id=batch.id,
        status=status,
        total=total,
        completed=counts.succeeded,
        failed=unfinished,
        progress_pct=round(100 * (counts.succeeded + unfinished) / total, 1) if total else 0.0,
        output_file_id=batch.results_url,
        error_file_id=None,
        created_at=int(batch.created_at.timestamp()),
        finished_at=int(batch.ended_at.timestamp()) if batch.ended_at else None,
        endpoint=MESSAGES,
    )


class MessageBatches(BatchApi):
    """Anthropic's Message Batches behind an ``Anthropic`` client."""

    api_name = "Anthropic's API"

    def __init__(self, client: Anthropic, *, provider: Provider = "anthropic") -> None:
        self.client = client
        self.provider: Provider = provider

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def _translated(self) -> AbstractContextManager[None]:
        return translated_errors()

    def _retrieve(self, batch_id: str) -> MadeBatch:
        return MadeBatch(status=message_batch_status(self.client.messages.batches.retrieve(batch_id)))

    def _list(self) -> Iterator[BatchStatus]:
        for batch in self.client.messages.batches.list(limit=LISTING_PAGE):
            yield message_batch_status(batch)

    def _search(self, submission: ShardSubmission) -> MadeBatch | None:
        """The batch a pending create made, if one was noted."""
        pending = submission.records.pending(submission.key)
        return self._made_by(pending, submission) if pending is not None else None

    def _in_flight_tokens(self, model: str) -> None:
        """Message Batches keep no enqueued-token budget, only a count of requests in flight."""
        return None

    def _made_by(self, pending: PendingSubmission, submission: ShardSubmission) -> MadeBatch | None:
        """The batch a pending create made, if the API lists one; any later one for it is a duplicate, and is
        cancelled."""
        made: list[MessageBatch] = []
        for number, batch in enumerate(self.client.messages.batches.list(limit=LISTING_PAGE)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            if batch.created_at.timestamp() < pending.started_at - CLOCK_SKEW_SECONDS:
                break
            same_size = message_batch_status(batch).total == pending.requests
            if same_size and batch.cancel_initiated_at is None and not submission.records.find(batch.id):
                made.append(batch)
        if not made:
            return None
        kept, *duplicates = sorted(made, key=lambda batch: (batch.created_at, batch.id))
        for duplicate in duplicates:
            self.client.with_options(max_retries=3).messages.batches.cancel(duplicate.id)
            submission.options.warn(
                f"cancelled Message Batch {duplicate.id}: the create for {kept.id} went out twice (a response was "
                "lost and retried), and this second batch was found before it ran"
            )
        return MadeBatch(status=message_batch_status(kept))

    def _create(self, submission: ShardSubmission) -> MadeBatch:
        """Create the batch once. A create whose response was lost is looked for before it is tried again; and
        once one succeeds, the listing is read once more, so that a batch an earlier attempt made (one the
        listing did not show yet) is kept and the later one cancelled."""
        shard, records = submission.shard, submission.records
        requests = _requests_in(shard.path)
        records.note_pending(PendingSubmission(submission.key, time.time(), shard.requests))
        once = self.client.with_options(max_retries=0)

        def create() -> MadeBatch:
            return MadeBatch(status=message_batch_status(once.messages.batches.create(requests=requests)))

        created = write_once(
            create, lambda: self._find(submission), what="creating the Message Batch", describe=error_line
        )
        pending = records.pending(submission.key)
        return (self._made_by(pending, submission) if pending else None) or created

    def _download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream the results, every request's outcome in one file: Anthropic keeps no separate error file."""
        results_url = batch.output_file_id
        if results_url is None:
            raise BatchError(f"batch {batch.batch_id} has ended but Anthropic's API names no results for it")
        stream_to_file(lambda: self._results(results_url), output, what=f"the results of {batch.batch_id}")
        return DownloadedFiles(
            batch_id=batch.batch_id, status=batch.status, output=output, output_bytes=output.stat().st_size
        )

    def _results(self, results_url: str) -> closing[httpx2.Response]:
        """One streamed GET of the results: the SDK's ``results()`` asks for the batch again first, so each
        attempt would take two calls for one file."""
        response = self.client.get(
            results_url,
            cast_to=httpx2.Response,
            options={"headers": {"Accept": "application/binary"}},
            stream=True,
            stream_cls=None,
        )
        return closing(response)

    def _model_warning(self, model: str, *, now: float) -> None:
        """Anthropic's models list names no shutdown dates; its deprecations page does, which no API serves."""
        return None

    def _output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        return batch.created_at + RESULTS_KEPT_SECONDS - now if batch.finished else None


def _requests_in(path: Path) -> list[Request]:
    """The shard's requests, as the create call sends them inline (prepare wrote and the audit checked them)."""
    with path.open("rb") as lines:
        try:
            return [cast(Request, json.loads(line)) for line in lines if line.strip()]
        except ValueError as error:
            raise InputError(f"{path} is not a valid Message Batch input: {error}") from None


_CREATE_PARAMETERS = frozenset(inspect.signature(Messages.create).parameters) - {"self"}
"""What the SDK's ``messages.create`` names. A Message Batch request's other params (``temperature``, which the
SDK's 2.x signature no longer lists) go in the body as they are, as the batch would send them."""


class AnthropicRealtime:
    """A realtime job's calls to Anthropic's ``/v1/messages``, one Message Batch request's ``params`` each, made
    once (the executor owns the retries). Anthropic has no flex tier, so ``service_tier`` is refused before a job
    is made (``TAGGING_MODE``)."""

    def __init__(self, client: Anthropic, *, model: str | None, timeout: float) -> None:
        self._client = client.with_options(max_retries=0, timeout=timeout)
        self._model = model

    def __call__(self, request: RealtimeRequest) -> HttpAnswer:
        params = dict(realtime_call(request.line).body)
        if self._model is not None:
            params["model"] = self._model
        named = {name: value for name, value in params.items() if name in _CREATE_PARAMETERS}
        extra = {name: value for name, value in params.items() if name not in _CREATE_PARAMETERS}
        try:
            raw = self._client.messages.with_raw_response.create(
                **named, extra_body=extra or None, extra_headers={"X-Client-Request-Id": request.custom_id}
            )
        except anthropic.APIStatusError as error:
            return HttpAnswer.of(error.response, error.request_id)
        except anthropic.APIConnectionError as error:
            raise ConnectionLost(f"{type(error).__name__}: {error}") from error
        return HttpAnswer.of(raw.http_response, raw.request_id)
