"""Submitting a shard: upload it once, create its batch once, within the enqueued-token budget.

Each step is safe to repeat after a crash at any point. The batch is found again
by its submission key (the sha256 of the input and of its index, which holds the
items' attempt counts, so a retry of the same requests after a finished batch is
a new batch): first in the work directory's records, then in the batches'
metadata, which survives a lost work directory. The upload is named for its
sha256, so it is found again too.

A record can name a batch that the API in use never saw: it was made against the
local gateway, another project or another key. Such a record is set aside with a
warning, and the search goes on at the API in use, so one input makes one batch
on each API and never two on the same one.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

import openai
from openai import OpenAI
from openai.types import Batch
from openai.types.file_create_params import ExpiresAfter

from tagging_assets.batches.api import DEFAULT_FILE_TTL_SECONDS, LISTED_BATCHES_TO_SEARCH
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.batches.retries import write_once
from tagging_assets.core.contracts import Backend, Shard
from tagging_assets.core.errors import InputError, TokenBudgetError
from tagging_assets.core.protocol import CHAT_COMPLETIONS, RESPONSES, TERMINAL_STATUSES
from tagging_assets.core.settings import Provider

_LISTED_FILES_TO_SEARCH = 10_000
BatchEndpoint = Literal["/v1/chat/completions", "/v1/responses"]
"""The endpoints of tagging requests, as the SDK's ``batches.create`` types them."""
logger = logging.getLogger(__name__)


def base_url_of(client: OpenAI) -> str:
    """The client's Batch API, as records and messages name it."""
    return str(client.base_url).rstrip("/")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def submission_key(shard: Shard) -> str:
    """What identifies a submission: the bytes of its requests and of its index."""
    return hashlib.sha256(f"{file_sha256(shard.path)}:{file_sha256(shard.index_path)}".encode()).hexdigest()


class Submitter:
    """Turns shards into batches at one Batch API, each once."""

    def __init__(
        self,
        client: OpenAI,
        records: RecordStore,
        *,
        collection: str,
        backend: Backend,
        provider: Provider = "openai",
        enqueued_token_limit: int | None = None,
        file_ttl_seconds: int = DEFAULT_FILE_TTL_SECONDS,
        warn: Callable[[str], None] = logger.warning,
    ) -> None:
        self.client = client
        self.records = records
        self.collection = collection
        self.backend = backend
        self.provider = provider
        self.enqueued_token_limit = enqueued_token_limit
        self.file_ttl_seconds = file_ttl_seconds
        self.warn = warn
        self.base_url = base_url_of(client)

    def submit(
        self, shard: Shard, *, submission_id: str | None = None, check: Callable[[Shard], None] | None = None
    ) -> BatchRecord:
        """The shard's batch, made now or found again, recorded in the work directory.

        Before a new batch's upload, ``TokenBudgetError`` refuses it while the batches in flight leave too little
        of the enqueued-token budget, and ``check`` (the cost cap) may refuse it too."""
        sha256 = file_sha256(shard.path)
        key = submission_key(shard)
        batch = self.find_batch(key)
        if batch is None:
            self._check_budget(shard)
            if check is not None:
                check(shard)
            batch = self._create(self._upload(shard.path, sha256), sha256, key, submission_id, shard)
        metadata = batch.metadata or {}
        record = BatchRecord(
            batch_id=batch.id,
            input_file=str(shard.path.resolve()),
            index_file=str(shard.index_path.resolve()),
            input_sha256=sha256,
            submission_key=key,
            input_file_id=batch.input_file_id,
            requests=shard.requests,
            model=metadata.get("model", shard.model),
            prompt_version=shard.prompt_version,
            submission_id=metadata.get("submission_id", submission_id or ""),
            created_at=batch.created_at,
            base_url=self.base_url,
            backend=self.backend,
            endpoint=batch.endpoint,
        )
        self.records.save(record)
        return record

    def find_batch(self, key: str) -> Batch | None:
        """A batch already made for this submission key and not failed: from this work dir's records, then the
        API's metadata."""
        batch_id = self.records.batch_for_key(key)
        if batch_id is not None:
            try:
                batch = self.client.batches.retrieve(batch_id)
            except openai.NotFoundError:
                self.warn(self.records.set_aside_unknown(batch_id, key, self.base_url))
            else:
                return batch if batch.status != "failed" else None
        for number, batch in enumerate(self.client.batches.list(limit=100)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            if (batch.metadata or {}).get("submission_key") == key and batch.status != "failed":
                return batch
        return None

    def in_flight_tokens(self, model: str) -> int:
        """Input tokens this project has queued for the model in batches not yet finished."""
        total = 0
        for number, batch in enumerate(self.client.batches.list(limit=100)):
            if number >= LISTED_BATCHES_TO_SEARCH:
                break
            metadata = batch.metadata or {}
            if batch.status not in TERMINAL_STATUSES and metadata.get("model") == model:
                total += int(metadata.get("input_tokens", "0") or 0)
        return total

    def _check_budget(self, shard: Shard) -> None:
        if self.enqueued_token_limit is None:
            return
        queued = self.in_flight_tokens(shard.model)
        if queued + shard.input_tokens > self.enqueued_token_limit:
            raise TokenBudgetError(
                f"{shard.path.name} (~{shard.input_tokens:,} tokens) would queue {queued + shard.input_tokens:,} "
                f"tokens for {shard.model}, over the budget of {self.enqueued_token_limit:,} "
                "(TAGGING_ENQUEUED_TOKEN_LIMIT); submit it once batches in flight have finished"
            )

    @property
    def _once(self) -> OpenAI:
        """The client without the SDK's own retries, for calls that must not happen twice."""
        return self.client.with_options(max_retries=0)

    def _upload(self, path: Path, sha256: str) -> str:
        """Upload the input once: an upload named for its sha256 is found again instead of repeated."""
        filename = f"batch-input-{sha256}.jsonl"
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
                expires: ExpiresAfter = {"anchor": "created_at", "seconds": self.file_ttl_seconds}
                return self._once.files.create(file=(filename, content), purpose="batch", expires_after=expires).id

        return find() or write_once(upload, find, what=f"uploading {path.name}")

    def _batch_endpoint(self, shard: Shard) -> BatchEndpoint:
        """The ``endpoint`` a batch is created with. Azure's global-batch guide creates it as
        ``/chat/completions`` (its service reads each line's ``url``); the SDK's type spells only OpenAI's."""
        if shard.endpoint not in (CHAT_COMPLETIONS, RESPONSES):
            raise InputError(
                f"{shard.path.name} holds {shard.endpoint} requests, which the OpenAI Batch API does not take"
            )
        return cast(BatchEndpoint, shard.endpoint.removeprefix("/v1") if self.provider == "azure" else shard.endpoint)

    def _create(self, input_file_id: str, sha256: str, key: str, submission_id: str | None, shard: Shard) -> Batch:
        metadata = {
            "input_sha256": sha256,
            "submission_key": key,
            "submission_id": submission_id or str(uuid.uuid4()),
            "collection": self.collection,
            "model": shard.model,
            "prompt_version": shard.prompt_version,
            "requests": str(shard.requests),
            "input_tokens": str(shard.input_tokens),
            "output_ttl_seconds": str(self.file_ttl_seconds),
        }
        endpoint = self._batch_endpoint(shard)

        def create() -> Batch:
            return self._once.batches.create(
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window="24h",
                metadata=metadata,
                output_expires_after={"anchor": "created_at", "seconds": self.file_ttl_seconds},
            )

        return write_once(create, lambda: self.find_batch(key), what="creating the batch")
