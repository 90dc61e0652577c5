"""BatchProcessor: the lesson's Python API over the batch workflow, one cache and one Batch API.

prepare -> submit -> check status -> download -> process, each safe to repeat.
The work itself lives in the modules beside this one (``providers``, ``download``,
``writeback``, ``records``) and in ``core``; this class only holds
what they share and keeps the lesson's names::

    cache = QdrantCache(collection_name="nate_content")
    processor = BatchProcessor(cache, api_key=os.getenv("OPENAI_API_KEY"))
    count = processor.prepare_batch_input(filters={"type": "youtube_video"}, system_prompt=..., output_file=Path(...))
    batch_id = processor.submit_batch(Path(...))
    processor.check_status(batch_id)["status"]
    processor.process_results(batch_id)["successful"]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tagging_assets.batches.api import BatchApi, SubmitOptions, status_naming_its_api
from tagging_assets.batches.clients import batch_api_client, batch_api_of, sdk_client
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.batches.writeback import mark_pending, write_results
from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import (
    Backend,
    BatchStatus,
    Cost,
    DownloadedFiles,
    SelectionReport,
    Shard,
    TokenUsage,
    WritebackSummary,
)
from tagging_assets.core.cost import cost_of, enforce_cap, expected_cost, unknown_price
from tagging_assets.core.errors import BatchError, InputError
from tagging_assets.core.models import ModelProfile, ModelTable, RequestOptions, model_table
from tagging_assets.core.prompt import SYSTEM_PROMPT, prompt_version_for
from tagging_assets.core.selection import CacheItem, Filters, collector_paused, select_items
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import Limits, index_path_for, load_shard, read_index, write_shards
from tagging_assets.core.tokens import TokenCounter, counter_for

if TYPE_CHECKING:
    from tagging_assets.batches.clients import BatchClient

logger = logging.getLogger(__name__)


class BatchProcessor:
    """Tags the cache's transcripts through the Batch API.

    ``settings`` (by default the environment's) says which model, limits and work
    directory to use; ``work_dir`` overrides its work directory. The Batch API is
    ``api`` if given, else the one ``client`` (an OpenAI, Azure or Anthropic SDK
    client) speaks to, else OpenAI's for ``api_key`` (and ``OPENAI_BASE_URL``),
    else the configured provider's. ``backend`` says who answers (the local gateway's
    offline tagger, or a Batch API), by default as the settings say; ``warn`` hears
    what a user should know but need not stop for (a stale record set aside), by
    default the module's logger. ``cache`` may be None for the steps that only talk
    to the API (status, download), since opening an embedded store loads all of it.
    """

    def __init__(
        self,
        cache: QdrantCache | None,
        client: BatchClient | None = None,
        *,
        api: BatchApi | None = None,
        api_key: str | None = None,
        settings: TaggingSettings | None = None,
        work_dir: Path | str | None = None,
        backend: Backend | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        settings = settings or TaggingSettings.from_env()
        if work_dir is not None:
            settings = settings.model_copy(update={"work_dir": Path(work_dir)})
        self.settings = settings
        self.backend: Backend = backend or settings.backend
        self.warn = warn or logger.warning
        self.model = settings.model
        self.work_dir = settings.work_dir
        self.records = RecordStore(settings.work_dir)
        self._cache = cache
        self._client = client
        self._api = api
        self._api_key = api_key

    @cached_property
    def counter(self) -> TokenCounter:
        """Exact token counts when tiktoken has the model's encoding on this machine, else the estimate."""
        return counter_for(self.model, self.settings.tiktoken_cache_dir)

    @cached_property
    def models(self) -> ModelTable:
        """The model profiles: the built-in table after TAGGING_PRICING_FILE's entries."""
        return model_table(self.settings.pricing_file)

    @cached_property
    def profile(self) -> ModelProfile:
        return self.models.profile(self.model)

    @cached_property
    def request_options(self) -> RequestOptions:
        """What each request carries for the configured model and effort, naming the Azure deployment where
        there is one; a wrong effort is a ``ConfigError``."""
        options = self.profile.request_options(self.settings.reasoning_effort)
        return replace(options, model=self.settings.deployment)

    def profile_of(self, requested: str) -> ModelProfile:
        """The profile of a model that requests named: the configured model's for its deployment too."""
        return self.profile if requested in (self.model, self.settings.deployment) else self.models.profile(requested)

    def expected_cost(self, input_tokens: int, requests: int) -> Cost | None:
        """What requests of the configured model are expected to cost; None without a price."""
        return expected_cost(self.profile, input_tokens, requests, self.settings.reasoning_effort)

    def expected_output_tokens(self, requests: int) -> int:
        return requests * self.profile.expected_output_tokens(self.settings.reasoning_effort)

    def cost_of(self, usage: TokenUsage, model: str | None = None) -> Cost | None:
        return cost_of(self.profile_of(model or self.model), usage)

    def enforce_cap(self, cost: Cost | None, what: str) -> None:
        """Refuse what would cost more than TAGGING_MAX_COST_USD, or what has no price while a cap is set."""
        enforce_cap(cost, self.settings.max_cost_usd, what, self.profile, self.models)

    @property
    def unknown_price(self) -> str:
        return unknown_price(self.profile, self.models)

    def model_warning(self) -> str | None:
        """What the API announces of the configured model: a warning when it is going away; a ``ConfigError``
        when it goes within a batch's 24-hour window."""
        return self.api.model_warning(self.model, now=time.time())

    @property
    def base_url(self) -> str:
        return self.api.base_url

    @cached_property
    def api(self) -> BatchApi:
        if self._api is not None:
            return self._api
        if self._client is not None:
            return batch_api_of(self._client, self.settings.batch_provider)
        if self._api_key is not None:
            return batch_api_of(sdk_client("openai", base_url=self.settings.openai_base_url, api_key=self._api_key))
        return batch_api_of(batch_api_client(self.settings), self.settings.batch_provider)

    @property
    def shard_limits(self) -> Limits:
        """How much one batch may hold: the API's limits, the configured request count and the token budget."""
        return Limits.for_endpoint(
            self.settings.endpoint,
            requests=self.settings.max_requests_per_file,
            tokens=self.settings.enqueued_token_limit,
        )

    @property
    def cache(self) -> QdrantCache:
        if self._cache is None:
            raise BatchError("this step reads or writes the cache, but the processor was made without one")
        return self._cache

    @property
    def submit_options(self) -> SubmitOptions:
        return SubmitOptions(
            collection=self.cache.collection,
            backend=self.backend,
            enqueued_token_limit=self.settings.enqueued_token_limit,
            file_ttl_seconds=self.settings.file_ttl_seconds,
            warn=self.warn,
        )

    # prepare

    def select(
        self,
        report: SelectionReport,
        filters: Filters = None,
        system_prompt: str = SYSTEM_PROMPT,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[CacheItem]:
        """The items that need tags, streamed from the cache."""
        self.cache.require()
        return select_items(
            self.cache,
            report,
            model=self.settings.deployment,
            prompt_version=prompt_version_for(system_prompt),
            max_attempts=self.settings.max_attempts,
            counter=self.counter,
            backend=self.backend,
            max_transcript_tokens=self.settings.max_transcript_tokens,
            only=filters,
            progress=progress,
        )

    def prepare_batch_input(
        self, filters: Filters = None, system_prompt: str = SYSTEM_PROMPT, output_file: Path | str = ""
    ) -> int:
        """Write one JSONL input file (plus ``.partN`` files beyond the API's limits); the number of requests."""
        return sum(shard.requests for shard in self.prepare_files(output_file, filters, system_prompt))

    def prepare_files(
        self,
        output_file: Path | str = "",
        filters: Filters = None,
        system_prompt: str = SYSTEM_PROMPT,
        report: SelectionReport | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Shard]:
        """``prepare_batch_input``, returning each shard written. With nothing to tag, ``output_file`` is left
        empty. ``progress`` hears of the points scanned, a thousand at a time."""
        output = Path(output_file or self.work_dir / "batch_input.jsonl")
        options = self.request_options
        items = self.select(report if report is not None else SelectionReport(), filters, system_prompt, progress)
        with collector_paused():
            shards = write_shards(
                items,
                output,
                options=options,
                endpoint=self.settings.endpoint,
                system_prompt=system_prompt,
                counter=self.counter,
                limits=self.shard_limits,
            )
        if not shards:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(b"")
            index_path_for(output).write_bytes(b"")
        return shards

    # submit

    def submit_batch(self, input_file: Path | str | Shard, submission_id: str | None = None) -> str:
        """Upload one prepared shard and create its batch, or adopt the batch already made from the same bytes;
        then mark its items pending. Refused before anything is uploaded when the file is invalid or the batch
        would cost more than the cap."""
        path = input_file.path if isinstance(input_file, Shard) else Path(input_file)
        if not path.is_file():
            raise InputError(f"no input file at {path}")
        audit = audit_input_files([path])
        if audit.requests == 0:
            raise InputError(f"{path} holds no requests: nothing to submit")
        if audit.problems:
            raise InputError(f"{path} is not a valid batch input: {'; '.join(audit.problems[:3])}")
        shard = input_file if isinstance(input_file, Shard) else load_shard(path)
        return self.submit_shard(shard, submission_id=submission_id, check=self._within_cost_cap).batch_id

    def submit_shard(
        self, shard: Shard, *, submission_id: str | None = None, check: Callable[[Shard], None] | None = None
    ) -> BatchRecord:
        """Submit an audited shard and mark its items pending; ``check`` may refuse a new batch before its upload."""
        record = self.api.submit(
            shard, records=self.records, options=self.submit_options, submission_id=submission_id, check=check
        )
        mark_pending(self.cache, record, read_index(shard.index_path))
        return record

    def _within_cost_cap(self, shard: Shard) -> None:
        profile = self.profile_of(shard.model)
        effort = self.settings.reasoning_effort if profile is self.profile else None
        expected = expected_cost(profile, shard.input_tokens, shard.requests, effort)
        enforce_cap(expected, self.settings.max_cost_usd, shard.path.name, profile, self.models)

    def record(self, batch_id: str) -> BatchRecord:
        return self.records.load(batch_id)

    # status

    def check_status(self, batch_id: str) -> BatchStatus:
        """The batch's status and progress; ``status["status"]`` reads as in the lesson. A batch the API in use
        does not know is a ``BatchError`` that says which API made it."""
        return status_naming_its_api(self.api, self.records, batch_id)

    # results

    def download_results(
        self, batch_id: str, output_file: Path | str | None = None, batch: BatchStatus | None = None
    ) -> DownloadedFiles:
        """Stream the output and error files to disk; ``output_file`` names the output, errors go beside it.
        A caller that has just asked for the batch's status passes it, to spare a second status call."""
        batch = batch or self.check_status(batch_id)
        output = Path(output_file or self.work_dir / "results" / batch_id / "output.jsonl")
        return self.api.download(batch, output)

    def process_results(
        self,
        batch_id: str,
        output_file: Path | str | None = None,
        errors_file: Path | str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WritebackSummary:
        """Write each request's outcome into the cache: tags and summary, or the failure and its reason.

        Without file paths it downloads them first. Every submitted custom_id ends
        tagged or failed; ids in neither file are failed as missing. ``progress``
        hears of the points written, a batched write at a time.
        """
        record = self.record(batch_id)
        batch = self.check_status(batch_id)
        if not batch.finished:
            raise BatchError(f"batch {batch_id} is still {batch.status}; process it once it has finished")
        if output_file is None and errors_file is None:
            files = self.download_results(batch_id, batch=batch)
            output_file, errors_file = files.output, files.errors
        return self.write_results(record, batch, output_file, errors_file, progress)

    def write_results(
        self,
        record: BatchRecord,
        batch: BatchStatus,
        output_file: Path | str | None,
        errors_file: Path | str | None,
        progress: Callable[[int], None] | None = None,
    ) -> WritebackSummary:
        """Stream result files already on disk into the cache."""
        files = [Path(path) for path in (output_file, errors_file) if path is not None]
        index = read_index(Path(record.index_file))
        return write_results(self.cache, record, batch, index, files, self.profile_of(record.model), progress)
