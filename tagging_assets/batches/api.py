"""One provider's Batch API as the library drives it: submit a shard once, read a batch's status, download its
results, and what the API announces of a model and of a batch's expiring output.

The processor, the sensor and the command line speak to a ``BatchApi`` and never to an SDK: OpenAI's and
Azure's batches are ``OpenAIBatches`` (``openai_batches.py``), Anthropic's Message Batches ``MessageBatches``
(``message_batches.py``). A new provider is another implementation here, its wire format in ``core/wire.py``
and its models in ``core/models.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.core.contracts import Backend, BatchStatus, DownloadedFiles, Shard
from tagging_assets.core.errors import BatchApiError, UnknownBatchError
from tagging_assets.core.settings import CREDENTIAL_VARIABLES, Provider

DEFAULT_FILE_TTL_SECONDS = 30 * 86_400
"""Uploads and batch output expire after this long at the API, OpenAI's longest."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitOptions:
    """What a submission records and within which limits it goes out."""

    collection: str
    backend: Backend
    enqueued_token_limit: int | None = None
    file_ttl_seconds: int = DEFAULT_FILE_TTL_SECONDS
    warn: Callable[[str], None] = field(default=logger.warning)


LISTED_BATCHES_TO_SEARCH = 1000
"""How far down the listing (newest first) a search for batches goes before it asks for the rest by id."""


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


class BatchSubmitter(Protocol):
    def submit(
        self, shard: Shard, *, submission_id: str | None = None, check: Callable[[Shard], None] | None = None
    ) -> BatchRecord:
        """The shard's batch, made now or found again, recorded in the work directory. ``check`` (the cost
        cap) may refuse a new batch before anything is sent."""
        ...


class BatchApi(Protocol):
    """A provider's Batch API. Its calls raise ``UnknownBatchError`` for a batch the API does not know and
    ``BatchApiError`` for a call that failed, each with the line a user sees."""

    provider: Provider

    @property
    def base_url(self) -> str:
        """The API, as records and messages name it."""
        ...

    def submitter(self, records: RecordStore, options: SubmitOptions) -> BatchSubmitter: ...

    def status(self, batch_id: str) -> BatchStatus: ...

    def statuses(self, batch_ids: Iterable[str]) -> Statuses:
        """Many batches' statuses in a few calls, for the sensor."""
        ...

    def download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        """Stream a finished batch's results to ``output``, and its errors beside it where the API keeps them
        apart."""
        ...

    def model_warning(self, model: str, *, now: float) -> str | None:
        """A warning when the API announces the model is going away; a ``ConfigError`` when it goes within a
        batch's window; None when nothing is announced or the API cannot say."""
        ...

    def output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """Seconds until a finished batch's results are gone from the API, if they go."""
        ...


def status_naming_its_api(api: BatchApi, records: RecordStore, batch_id: str) -> BatchStatus:
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
