"""OpenAI's Batch API, and Azure OpenAI's through ``AzureOpenAI``: files uploaded, batches created from them,
output and error files downloaded. The steps live in ``submit``, ``status`` and ``download``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import openai
from openai import OpenAI

from tagging_assets.batches.api import Statuses, SubmitOptions, statuses_by_listing
from tagging_assets.batches.download import download_results
from tagging_assets.batches.records import RecordStore
from tagging_assets.batches.status import model_lifecycle, output_expires_in, status_of
from tagging_assets.batches.submit import Submitter, base_url_of
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles
from tagging_assets.core.errors import BatchApiError, UnknownBatchError, describe
from tagging_assets.core.settings import Provider

_PAGE = 100
"""The most batches a listing page holds."""


class OpenAIBatches:
    """The Batch API behind an ``OpenAI`` (or ``AzureOpenAI``) client."""

    def __init__(self, client: OpenAI, *, provider: Provider = "openai") -> None:
        self.client = client
        self.provider: Provider = provider

    @property
    def base_url(self) -> str:
        return base_url_of(self.client)

    def submitter(self, records: RecordStore, options: SubmitOptions) -> Submitter:
        return Submitter(
            self.client,
            records,
            collection=options.collection,
            backend=options.backend,
            provider=self.provider,
            enqueued_token_limit=options.enqueued_token_limit,
            file_ttl_seconds=options.file_ttl_seconds,
            warn=options.warn,
        )

    def status(self, batch_id: str) -> BatchStatus:
        try:
            return status_of(self.client.batches.retrieve(batch_id))
        except openai.NotFoundError:
            raise UnknownBatchError(f"batch {batch_id} is not known at the Batch API at {self.base_url}") from None
        except openai.OpenAIError as error:
            raise BatchApiError(describe(error) or str(error)) from error

    def statuses(self, batch_ids: Iterable[str]) -> Statuses:
        return statuses_by_listing(batch_ids, self._listing, self.status)

    def _listing(self) -> Iterator[BatchStatus]:
        try:
            for batch in self.client.batches.list(limit=_PAGE):
                yield status_of(batch)
        except openai.OpenAIError as error:
            raise BatchApiError(describe(error) or str(error)) from error

    def download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        return download_results(self.client, batch, output)

    def model_warning(self, model: str, *, now: float) -> str | None:
        """Azure retires models per deployment, which its models list does not tell, so there it says nothing."""
        if self.provider == "azure":
            return None
        return model_lifecycle(self.client, model, now=now)

    def output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        try:
            return output_expires_in(self.client, batch, now=now)
        except openai.OpenAIError:
            return None
