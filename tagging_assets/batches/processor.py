"""BatchProcessor: the lesson's Python API, a thin facade over the pipeline's steps (``steps.py``).

prepare -> submit -> check status -> download -> process, each safe to repeat, with the lesson's names::

    cache = QdrantCache(collection_name="nate_content")
    processor = BatchProcessor(cache, api_key=os.getenv("OPENAI_API_KEY"))
    count = processor.prepare_batch_input(filters={"type": "youtube_video"}, system_prompt=..., output_file=Path(...))
    batch_id = processor.submit_batch(Path(...))
    processor.check_status(batch_id)["status"]
    processor.process_results(batch_id)["successful"]

The command line and the Dagster assets call the same steps, so what this class does they do too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tagging_assets.batches import steps
from tagging_assets.batches.jobs import Jobs, jobs_of
from tagging_assets.batches.plan import TaggingPlan, answering_backend
from tagging_assets.batches.providers import batch_api_client, sdk_client, status_naming_its_api
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import (
    Backend,
    BatchStatus,
    DownloadedFiles,
    SelectionReport,
    Shard,
    WritebackSummary,
)
from tagging_assets.core.errors import BatchError
from tagging_assets.core.prompt import configured_prompt
from tagging_assets.core.selection import Filters
from tagging_assets.core.settings import TaggingSettings

if TYPE_CHECKING:
    from tagging_assets.batches.providers.dispatch import BatchClient

logger = logging.getLogger(__name__)


class BatchProcessor:
    """Tags the cache's transcripts through the Batch API.

    ``settings`` (by default the environment's) says which model, limits and work
    directory to use; ``work_dir`` overrides its work directory. The Batch API is
    ``api`` if given, else the one ``client`` (an OpenAI, Azure or Anthropic SDK
    client) speaks to, else OpenAI's for ``api_key`` (and ``OPENAI_BASE_URL``),
    else the configured provider's. ``backend`` says who answers (the local gateway's
    offline tagger or the model server behind it, or a Batch API), by default as the
    gateway or the settings say; ``warn`` hears what a user should know but need not
    stop for (a stale record set aside), by default the module's logger. ``cache``
    may be None for the steps that only talk to the API (status, download), since
    opening an embedded store loads all of it.
    """

    def __init__(
        self,
        cache: QdrantCache | None,
        client: BatchClient | None = None,
        *,
        api: Jobs | None = None,
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
        self.backend: Backend = backend or answering_backend(settings)
        self.warn = warn or logger.warning
        self.records = RecordStore(settings.work_dir)
        self._cache = cache
        self._client = client
        self._api = api
        self._api_key = api_key

    @cached_property
    def system_prompt(self) -> str:
        """The prompt a step carries unless given one: TAGGING_PROMPT_FILE's text (read once, on first use), else
        the bundled prompt."""
        return configured_prompt(self.settings.prompt_file)

    def plan(self, system_prompt: str | None = None) -> TaggingPlan:
        """The run's choices for ``system_prompt`` (an explicit one wins over TAGGING_PROMPT_FILE): the settings'
        model, limits and prices."""
        return TaggingPlan(self.settings, self.backend, system_prompt or self.system_prompt)

    @cached_property
    def api(self) -> Jobs:
        """Jobs of every mode (``TAGGING_MODE``) through the client given, or one the settings describe."""
        if self._api is not None:
            return self._api
        if self._client is not None:
            return jobs_of(self._client, self.settings)
        if self._api_key is not None:
            client = sdk_client("openai", base_url=self.settings.openai_base_url, api_key=self._api_key)
            return jobs_of(client, self.settings, provider="openai")
        return jobs_of(batch_api_client(self.settings), self.settings)

    @property
    def cache(self) -> QdrantCache:
        if self._cache is None:
            raise BatchError("this step reads or writes the cache, but the processor was made without one")
        return self._cache

    def prepare_batch_input(
        self, filters: Filters = None, system_prompt: str | None = None, output_file: Path | str = ""
    ) -> int:
        """Write one JSONL input file (plus ``.partN`` files beyond the API's limits); the number of requests.
        ``system_prompt`` defaults to TAGGING_PROMPT_FILE's text, else the bundled prompt."""
        return sum(shard.requests for shard in self.prepare_files(output_file, filters, system_prompt))

    def prepare_files(
        self,
        output_file: Path | str = "",
        filters: Filters = None,
        system_prompt: str | None = None,
        report: SelectionReport | None = None,
    ) -> list[Shard]:
        """``prepare_batch_input``, returning each shard written. With nothing to tag, ``output_file`` is left
        empty."""
        plan = self.plan(system_prompt)
        report = report if report is not None else SelectionReport()
        output = Path(output_file or self.settings.work_dir / "batch_input.jsonl")
        items = steps.select(self.cache, plan, report=report, filters=filters)
        return steps.write_requests(items, output, plan=steps.with_library_tags(self.cache, plan))

    def submit_batch(self, input_file: Path | str | Shard, submission_id: str | None = None) -> str:
        """Upload one prepared file and create its batch, or adopt the batch already made from the same bytes;
        then mark its items pending. Refused before anything is uploaded when the file is invalid, when the batch
        would cost more than the cap, or while the batches in flight leave too little of the token budget."""
        request_file = input_file if isinstance(input_file, Shard) else Path(input_file)
        submission = steps.submit(
            [request_file],
            plan=self.plan(),
            api=self.api,
            records=self.records,
            cache=self.cache,
            submission_id=submission_id,
            warn=self.warn,
            defer_over_budget=False,
        )
        return submission.batches[0].batch_id

    def record(self, batch_id: str) -> BatchRecord:
        return self.records.load(batch_id)

    def check_status(self, batch_id: str) -> BatchStatus:
        """The batch's status and progress; ``status["status"]`` reads as in the lesson. A batch the API in use
        does not know is a ``BatchError`` that says which API made it."""
        return status_naming_its_api(self.api, self.records, batch_id)

    def download_results(
        self, batch_id: str, output_file: Path | str | None = None, batch: BatchStatus | None = None
    ) -> DownloadedFiles:
        """Stream the output and error files to disk; ``output_file`` names the output, errors go beside it.
        A caller that has just asked for the batch's status passes it, to spare a second status call."""
        batch = batch or self.check_status(batch_id)
        output = Path(output_file or self.settings.work_dir / "results" / batch_id / "output.jsonl")
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
        if output_file is None and errors_file is None:
            files = self.download_results(batch_id, batch=batch)
        else:
            files = DownloadedFiles(
                batch_id=batch_id,
                status=batch.status,
                output=Path(output_file) if output_file else None,
                errors=Path(errors_file) if errors_file else None,
            )
        return steps.write_back(self.cache, self.plan(), record=record, batch=batch, files=files, progress=progress)
