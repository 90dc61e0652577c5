"""One provider's Batch API as the library drives it: submit a shard once, read a batch's status, download its
results, and what the API announces of a model and of a batch's expiring output.

The processor, the sensor and the command line speak to a ``BatchApi`` and never to an SDK: OpenAI's and
Azure's batches are ``OpenAIBatches`` (``openai_batches.py``), Anthropic's Message Batches ``MessageBatches``
(``message_batches.py``). A new provider is another implementation here, its wire format in ``core/wire.py``
and its models in ``core/models.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.core.contracts import Backend, BatchStatus, DownloadedFiles, Shard
from tagging_assets.core.settings import Provider

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
