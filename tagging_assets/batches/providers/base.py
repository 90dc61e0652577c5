"""One provider's Batch API as the library drives it: submit a shard once, read a batch's status, download its
results, and what the API announces of a model and of a batch's expiring output.

The processor, the sensor and the command line speak to a ``BatchApi`` and never to an SDK. This class declares
every operation and carries what is the same at every provider: the submit template (find the batch already made,
check, create, record), the search through the work directory's records, the statuses read from the listing, and
the one translation of the SDK's errors wrapped around each public call. An implementation fills in the hooks
(``_retrieve``, ``_list``, ``_search``, ``_create``, ...) with its own SDK: OpenAI's and Azure's batches in
``openai_batches.py``, Anthropic's Message Batches in ``anthropic_batches.py``, Gemini's Batch API in
``gemini_batches.py``. A new provider is another implementation beside them and one entry in ``dispatch.py``, its
wire format in ``tagging_assets/wire/`` and its models in ``core/models.py``.

A record can name a batch that the API in use never saw: it was made against the local gateway, another project
or another key. Such a record is set aside with a warning, and the search goes on at the API in use, so one input
makes one batch on each API and never two on the same one.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from tagging_assets.batches.providers.keys import file_sha256, submission_key
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.core.contracts import Backend, BatchStatus, DownloadedFiles, Shard
from tagging_assets.core.errors import BatchApiError, BatchError, TokenBudgetError, UnknownBatchError
from tagging_assets.core.settings import CREDENTIAL_VARIABLES, Provider

EXPIRY_WARNING_SECONDS = 24 * 3600
"""A finished batch whose output expires sooner than this, still unprocessed, is warned about."""
LISTED_BATCHES_TO_SEARCH = 1000
"""How far down the listing (newest first) a search for batches goes before it asks for the rest by id."""
LISTING_PAGE = 100
"""The most batches a listing page holds in this pipeline's listings."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SubmitOptions:
    """What a submission records and within which limits it goes out."""

    collection: str
    backend: Backend
    file_ttl_seconds: int
    """How long the upload and the batch's output live at the API (TAGGING_FILE_TTL_DAYS)."""
    enqueued_token_limit: int | None = None
    warn: Callable[[str], None] = field(default=logger.warning)


@dataclass(frozen=True)
class ShardSubmission:
    """One shard on its way to a batch: what the hooks that find and create its batch are given."""

    shard: Shard
    key: str
    """The shard's submission key (``keys.submission_key``)."""
    sha256: str
    """The sha256 of the shard's requests."""
    submission_id: str | None
    records: RecordStore
    options: SubmitOptions


@dataclass(frozen=True)
class MadeBatch:
    """A batch at the API as a submission records it: its status, and the upload it was made from, if any."""

    status: BatchStatus
    input_file_id: str = ""


@dataclass(frozen=True)
class Statuses:
    """Many batches' statuses at once: found, unknown to the API, or not read because a call failed."""

    found: dict[str, BatchStatus] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    """Batch id -> the error that kept it from being read."""


def statuses_by_listing(
    batch_ids: Iterable[str],
    listing: Callable[[], Iterable[BatchStatus]],
    status: Callable[[str], BatchStatus],
) -> Statuses:
    """The statuses of ``batch_ids`` from the API's listing, newest first, a page a call: a thousand batches in
    flight are ten calls, not a thousand, and each status is as exact as a retrieve's. The listing stops once
    every batch is found; one it did not reach within ``LISTED_BATCHES_TO_SEARCH`` (older than the rest, or
    unknown to this API) is asked for by id."""
    wanted = set(batch_ids)
    result = Statuses()
    try:
        for listed, batch in enumerate(listing(), start=1):
            if batch.batch_id in wanted:
                result.found[batch.batch_id] = batch
            if len(result.found) == len(wanted) or listed >= max(LISTED_BATCHES_TO_SEARCH, 2 * len(wanted)):
                break
    except BatchApiError as error:
        return Statuses(unreachable={batch_id: str(error) for batch_id in sorted(wanted)})
    for batch_id in sorted(wanted - result.found.keys()):
        try:
            result.found[batch_id] = status(batch_id)
        except UnknownBatchError:
            result.unknown.append(batch_id)
        except BatchApiError as error:
            result.unreachable[batch_id] = str(error)
    return result


class BatchApi(ABC):
    """A provider's Batch API. Its calls raise ``UnknownBatchError`` for a batch the API does not know and
    ``BatchApiError`` for a call that failed, each with the line a user sees; no SDK exception leaves it."""

    provider: Provider
    api_name: ClassVar[str] = "the Batch API"
    """The API, as messages name it."""

    @property
    @abstractmethod
    def base_url(self) -> str:
        """The API, as records and messages name it."""

    # The operations the library uses.

    def submit(
        self,
        shard: Shard,
        *,
        records: RecordStore,
        options: SubmitOptions,
        submission_id: str | None = None,
        check: Callable[[Shard], None] | None = None,
    ) -> BatchRecord:
        """The shard's batch, made now or found again, recorded in the work directory.

        Each step is safe to repeat after a crash at any point: the batch is found again by its submission key
        before anything is made. Before a new batch goes out, ``TokenBudgetError`` refuses it while the batches in
        flight leave too little of the enqueued-token budget (where the provider has one), and ``check`` (the
        cost cap) may refuse it too."""
        with self._translated():
            sha256 = file_sha256(shard.path)
            submission = ShardSubmission(
                shard=shard,
                key=submission_key(shard, sha256),
                sha256=sha256,
                submission_id=submission_id,
                records=records,
                options=options,
            )
            made = self._find(submission)
            if made is None:
                self._check_budget(shard, options)
                if check is not None:
                    check(shard)
                made = self._create(submission)
        record = self._record_of(made, submission)
        records.save(record)
        records.clear_pending(submission.key)
        return record

    def status(self, batch_id: str) -> BatchStatus:
        try:
            with self._translated():
                return self._retrieve(batch_id).status
        except UnknownBatchError:
            raise UnknownBatchError(f"batch {batch_id} is not known at {self.api_name} at {self.base_url}") from None

    def statuses(self, batch_ids: Iterable[str]) -> Statuses:
        """Many batches' statuses in a few calls, for the sensor."""
        return statuses_by_listing(batch_ids, self._listing, self.status)

    def download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream a finished batch's results to ``output``, and its errors beside it where the API keeps them
        apart."""
        if not batch.finished:
            raise BatchError(f"batch {batch.batch_id} is still {batch.status}; its results are not ready")
        output.parent.mkdir(parents=True, exist_ok=True)
        with self._translated():
            return self._download(batch, output)

    def model_warning(self, model: str, *, now: float) -> str | None:
        """A warning when the API announces the model is going away; a ``ConfigError`` when it goes within a
        batch's window; None when nothing is announced or the API cannot say (submitting will tell)."""
        try:
            with self._translated():
                return self._model_warning(model, now=now)
        except BatchApiError:
            return None

    def output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """Seconds until a finished batch's results are gone from the API, if they go; None when the API
        cannot say."""
        try:
            with self._translated():
                return self._output_expires_in(batch, now=now)
        except (BatchApiError, UnknownBatchError):
            return None

    # The shared steps.

    def _find(self, submission: ShardSubmission) -> MadeBatch | None:
        """The batch already made for this submission key and not failed: from this work directory's records,
        else as the provider searches for it."""
        records, key = submission.records, submission.key
        batch_id = records.batch_for_key(key)
        if batch_id is not None:
            try:
                with self._translated():
                    made = self._retrieve(batch_id)
            except UnknownBatchError:
                submission.options.warn(records.set_aside_unknown(batch_id, key, self.base_url))
            else:
                return made if made.status.status != "failed" else None
        return self._search(submission)

    def _check_budget(self, shard: Shard, options: SubmitOptions) -> None:
        if options.enqueued_token_limit is None:
            return
        queued = self._in_flight_tokens(shard.model)
        if queued is not None and queued + shard.input_tokens > options.enqueued_token_limit:
            raise TokenBudgetError(
                f"{shard.path.name} (~{shard.input_tokens:,} tokens) would queue {queued + shard.input_tokens:,} "
                f"tokens for {shard.model}, over the budget of {options.enqueued_token_limit:,} "
                "(TAGGING_ENQUEUED_TOKEN_LIMIT); submit it once batches in flight have finished"
            )

    def _record_of(self, made: MadeBatch, submission: ShardSubmission) -> BatchRecord:
        """The one place a batch's record is built. The model and submission id are the batch's own where its
        metadata names them (a batch found again keeps the id it was made under)."""
        shard, metadata = submission.shard, made.status.metadata
        return BatchRecord(
            batch_id=made.status.batch_id,
            input_file=str(shard.path.resolve()),
            index_file=str(shard.index_path.resolve()),
            input_sha256=submission.sha256,
            submission_key=submission.key,
            input_file_id=made.input_file_id,
            requests=shard.requests,
            model=metadata.get("model", shard.model),
            prompt_version=shard.prompt_version,
            submission_id=metadata.get("submission_id") or submission.submission_id or str(uuid.uuid4()),
            created_at=made.status.created_at,
            base_url=self.base_url,
            backend=submission.options.backend,
            endpoint=made.status.endpoint or shard.endpoint,
        )

    def _listing(self) -> Iterator[BatchStatus]:
        with self._translated():
            yield from self._list()

    # The hooks: what differs between providers.

    @abstractmethod
    def _translated(self) -> AbstractContextManager[None]:
        """The one place the SDK's exceptions become the project's: ``UnknownBatchError`` for what the API does
        not know, ``BatchApiError`` for any other failed call, each with its one line."""

    @abstractmethod
    def _retrieve(self, batch_id: str) -> MadeBatch:
        """The batch as the API has it now."""

    @abstractmethod
    def _list(self) -> Iterator[BatchStatus]:
        """The API's batches, newest first, a page a call."""

    @abstractmethod
    def _search(self, submission: ShardSubmission) -> MadeBatch | None:
        """The submission's batch where the work directory's records do not name it, if the API shows one."""

    @abstractmethod
    def _in_flight_tokens(self, model: str) -> int | None:
        """Input tokens this project has queued for the model in batches not yet finished; None where the
        provider keeps no enqueued-token budget."""

    @abstractmethod
    def _create(self, submission: ShardSubmission) -> MadeBatch:
        """Make the submission's batch, once even when a response is lost on the way back."""

    @abstractmethod
    def _download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream a finished batch's results to ``output`` (its folder exists)."""

    @abstractmethod
    def _model_warning(self, model: str, *, now: float) -> str | None:
        """What the API announces of the model's end (see ``model_warning``)."""

    @abstractmethod
    def _output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """Seconds until a finished batch's results are gone, if they go."""


class FollowsJobs(Protocol):
    """What follows a job's status: a provider's ``BatchApi``, or every mode's jobs (``batches/jobs.py``)."""

    provider: Provider

    @property
    def base_url(self) -> str: ...

    def status(self, batch_id: str) -> BatchStatus: ...


def status_naming_its_api(api: FollowsJobs, records: RecordStore, batch_id: str) -> BatchStatus:
    """The batch's status. A batch the API in use does not know is an ``UnknownBatchError`` that says which API
    made it, when this work directory's records know, and which variables point at that one."""
    try:
        return api.status(batch_id)
    except UnknownBatchError:
        record = records.find(batch_id)
        if record is not None and record.base_url and record.base_url != api.base_url:
            url, key = CREDENTIAL_VARIABLES[api.provider]
            raise UnknownBatchError(
                f"batch {batch_id} was made at the Batch API at {record.base_url}, not the one in use "
                f"({api.base_url}); point {url} and {key} at that one to follow it"
            ) from None
        raise
