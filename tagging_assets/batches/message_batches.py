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

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import cast

import anthropic
import httpx2
from anthropic import Anthropic
from anthropic.types.messages import MessageBatch
from anthropic.types.messages.batch_create_params import Request

from tagging_assets.batches.api import LISTED_BATCHES_TO_SEARCH, Statuses, SubmitOptions, statuses_by_listing
from tagging_assets.batches.download import stream_to_file
from tagging_assets.batches.records import BatchRecord, PendingSubmission, RecordStore
from tagging_assets.batches.retries import write_once
from tagging_assets.batches.submit import file_sha256, submission_key
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles, Shard
from tagging_assets.core.errors import BatchApiError, BatchError, InputError, UnknownBatchError, describe
from tagging_assets.core.protocol import MESSAGES
from tagging_assets.core.settings import Provider

RESULTS_KEPT_SECONDS = 29 * 86_400
"""Anthropic keeps a batch's results for 29 days after its creation."""
CLOCK_SKEW_SECONDS = 300
_PAGE = 100
"""The most Message Batches a listing page holds in this pipeline's listings (Anthropic allows up to 1,000)."""


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


class MessageBatches:
    """Anthropic's Message Batches behind an ``Anthropic`` client."""

    provider: Provider = "anthropic"

    def __init__(self, client: Anthropic) -> None:
        self.client = client

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def submitter(self, records: RecordStore, options: SubmitOptions) -> MessageBatchSubmitter:
        return MessageBatchSubmitter(self.client, records, options)

    def status(self, batch_id: str) -> BatchStatus:
        try:
            return message_batch_status(self.client.messages.batches.retrieve(batch_id))
        except anthropic.NotFoundError:
            raise UnknownBatchError(f"batch {batch_id} is not known at Anthropic's API at {self.base_url}") from None
        except anthropic.AnthropicError as error:
            raise BatchApiError(describe(error) or str(error)) from error

    def statuses(self, batch_ids: Iterable[str]) -> Statuses:
        return statuses_by_listing(batch_ids, self._listing, self.status)

    def _listing(self) -> Iterator[BatchStatus]:
        try:
            for batch in self.client.messages.batches.list(limit=_PAGE):
                yield message_batch_status(batch)
        except anthropic.AnthropicError as error:
            raise BatchApiError(describe(error) or str(error)) from error

    def download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream the results, every request's outcome in one file: Anthropic keeps no separate error file."""
        if not batch.finished:
            raise BatchError(f"batch {batch.batch_id} is still {batch.status}; its results are not ready")
        results_url = batch.output_file_id
        if results_url is None:
            raise BatchError(f"batch {batch.batch_id} has ended but Anthropic's API names no results for it")
        output.parent.mkdir(parents=True, exist_ok=True)
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

    def model_warning(self, model: str, *, now: float) -> str | None:
        """Anthropic's models list names no shutdown dates; its deprecations page does, which no API serves."""
        return None

    def output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        return batch.created_at + RESULTS_KEPT_SECONDS - now if batch.finished else None


class MessageBatchSubmitter:
    """Turns shards into Message Batches, each once while the work directory is kept."""

    def __init__(self, client: Anthropic, records: RecordStore, options: SubmitOptions) -> None:
        self.client = client
        self.records = records
        self.options = options
        self.base_url = str(client.base_url).rstrip("/")

    def submit(
        self, shard: Shard, *, submission_id: str | None = None, check: Callable[[Shard], None] | None = None
    ) -> BatchRecord:
        key = submission_key(shard)
        batch = self.find_batch(key)
        if batch is None:
            if check is not None:
                check(shard)
            batch = self._create(shard, key)
        record = BatchRecord(
            batch_id=batch.id,
            input_file=str(shard.path.resolve()),
            index_file=str(shard.index_path.resolve()),
            input_sha256=file_sha256(shard.path),
            submission_key=key,
            input_file_id="",
            requests=shard.requests,
            model=shard.model,
            prompt_version=shard.prompt_version,
            submission_id=submission_id or str(uuid.uuid4()),
            created_at=int(batch.created_at.timestamp()),
            base_url=self.base_url,
            backend=self.options.backend,
            endpoint=MESSAGES,
        )
        self.records.save(record)
        self.records.clear_pending(key)
        return record

    def find_batch(self, key: str) -> MessageBatch | None:
        """The batch already made for this submission key: from its record, else the one a pending create made."""
        batch_id = self.records.batch_for_key(key)
        if batch_id is not None:
            try:
                return self.client.messages.batches.retrieve(batch_id)
            except anthropic.NotFoundError:
                self.options.warn(self.records.set_aside_unknown(batch_id, key, self.base_url))
        pending = self.records.pending(key)
        return self._made_by(pending) if pending is not None else None

    def _made_by(self, pending: PendingSubmission) -> MessageBatch | None:
        """The batch a pending create made, if the API lists one; any later one for it is a duplicate, and is
        cancelled."""
        made: list[MessageBatch] = []
        for number, batch in enumerate(self.client.messages.batches.list(limit=100)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            if batch.created_at.timestamp() < pending.started_at - CLOCK_SKEW_SECONDS:
                break
            same_size = message_batch_status(batch).total == pending.requests
            if same_size and batch.cancel_initiated_at is None and not self.records.find(batch.id):
                made.append(batch)
        if not made:
            return None
        kept, *duplicates = sorted(made, key=lambda batch: (batch.created_at, batch.id))
        for duplicate in duplicates:
            self.client.with_options(max_retries=3).messages.batches.cancel(duplicate.id)
            self.options.warn(
                f"cancelled Message Batch {duplicate.id}: the create for {kept.id} went out twice (a response was "
                "lost and retried), and this second batch was found before it ran"
            )
        return kept

    def _create(self, shard: Shard, key: str) -> MessageBatch:
        """Create the batch once. A create whose response was lost is looked for before it is tried again; and
        once one succeeds, the listing is read once more, so that a batch an earlier attempt made (one the
        listing did not show yet) is kept and the later one cancelled."""
        requests = _requests_in(shard.path)
        self.records.note_pending(PendingSubmission(key, time.time(), shard.requests))
        once = self.client.with_options(max_retries=0)

        def create() -> MessageBatch:
            return once.messages.batches.create(requests=requests)

        created = write_once(create, lambda: self.find_batch(key), what="creating the Message Batch")
        pending = self.records.pending(key)
        return (self._made_by(pending) if pending else None) or created


def _requests_in(path: Path) -> list[Request]:
    """The shard's requests, as the create call sends them inline (prepare wrote and the audit checked them)."""
    with path.open("rb") as lines:
        try:
            return [cast(Request, json.loads(line)) for line in lines if line.strip()]
        except ValueError as error:
            raise InputError(f"{path} is not a valid Message Batch input: {error}") from None
