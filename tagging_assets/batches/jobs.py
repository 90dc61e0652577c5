"""Every job a submission makes: a batch at the provider's Batch API, or a realtime or flex job that this project
runs itself.

A realtime or flex job is a batch in all but where it runs. It has an id (``realtime-…``, ``flex-…``), a record
in the work directory, a status and result files in the Batch API's format, so the sensor, ``status``, write-back,
the checks and the cost follow it as they follow a batch. Its requests run in the process that submits it
(``Jobs.run``), through the executor (``core/executor.py``) and the provider's realtime endpoint; its folder,
``{work_dir}/jobs/{job_id}/``, holds its state (``job.json``), its answers (``output.jsonl``, ``errors.jsonl``)
and the journal of what was sent, so a run killed at any moment resumes where it stopped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tagging_assets.batches.providers import (
    BatchApi,
    RealtimeOptions,
    Statuses,
    SubmitOptions,
    batch_api_of,
    realtime_sender,
)
from tagging_assets.batches.providers.keys import file_sha256, submission_key
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.core.contracts import BatchStatus, DownloadedFiles, RunMode, Shard
from tagging_assets.core.errors import BatchError, UnknownBatchError
from tagging_assets.core.executor import ExecutorReport, JobFiles, Limits, RealtimeRequest, Send, run_requests
from tagging_assets.core.settings import Provider, TaggingSettings
from tagging_assets.wire.realtime import realtime_call, result_lines_for

if TYPE_CHECKING:
    from tagging_assets.batches.providers.dispatch import BatchClient

JOB_MODES: tuple[RunMode, ...] = ("realtime", "flex")
"""The modes whose jobs this project runs itself."""


def is_local_job(batch_id: str) -> bool:
    """A realtime or flex job's id, as opposed to a batch the provider made."""
    return batch_id.startswith(tuple(f"{mode}-" for mode in JOB_MODES))


@dataclass(frozen=True)
class JobState:
    """What ``job.json`` holds: the job's mode, size and progress, written as its run goes."""

    job_id: str
    mode: RunMode
    model: str
    endpoint: str
    requests: int
    created_at: int
    submission_id: str
    status: str = "in_progress"
    in_progress_at: int | None = None
    finished_at: int | None = None
    stopped: str | None = None
    """Why the last run stopped before every request had its answer, in one line."""
    resent_after_crash: int = 0
    """Requests a killed run had in flight, sent again by a later one: the only requests that may be billed twice."""
    retries: int = 0
    rate_limited: int = 0


class JobStoppedError(BatchError):
    """A realtime or flex job stopped before every request was answered (the API's quota ran out); running it
    again sends only the requests still unanswered."""


class RealtimeJobs:
    """The realtime and flex jobs of one work directory, run against one provider's realtime endpoint.

    ``send_for`` makes the provider's call for a mode and the job's model: its SDK, the realtime model (Gemini's
    lines name none, so the job's goes in the call's path), and ``service_tier: "flex"`` for flex
    (``batches/providers``)."""

    def __init__(self, work_dir: Path, *, send_for: Callable[[RunMode, str], Send], limits: Limits) -> None:
        self.folder = work_dir / "jobs"
        self._send_for = send_for
        self._limits = limits

    def submit(
        self,
        shard: Shard,
        *,
        mode: RunMode,
        records: RecordStore,
        options: SubmitOptions,
        submission_id: str | None,
        check: Callable[[Shard], None] | None,
    ) -> BatchRecord:
        """The shard's job, made now or found again by the bytes of its requests; making it sends nothing yet."""
        sha256 = file_sha256(shard.path)
        digest = submission_key(shard, sha256)
        key = f"{mode}-{digest}"
        found = records.batch_for_key(key)
        if found is not None and self._state_path(found).is_file():
            return records.load(found)
        if check is not None:
            check(shard)
        job_id = f"{mode}-{digest[:24]}"
        state = JobState(
            job_id=job_id,
            mode=mode,
            model=shard.model,
            endpoint=shard.endpoint,
            requests=shard.requests,
            created_at=int(time.time()),
            submission_id=submission_id or str(uuid.uuid4()),
        )
        self._save(state)
        record = BatchRecord(
            batch_id=job_id,
            input_file=str(shard.path.resolve()),
            index_file=str(shard.index_path.resolve()),
            input_sha256=sha256,
            submission_key=key,
            input_file_id="",
            requests=shard.requests,
            model=shard.model,
            prompt_version=shard.prompt_version,
            submission_id=state.submission_id,
            created_at=state.created_at,
            base_url=None,
            backend=options.backend,
            endpoint=shard.endpoint,
            mode=mode,
        )
        records.save(record)
        return record

    def run(self, record: BatchRecord, *, progress: Callable[[int], None] | None = None) -> ExecutorReport | None:
        """Send the job's requests that have no answer on disk; None when every one had. A run stopped by the API
        (its quota) raises ``JobStoppedError`` with the line why, after recording how far it got."""
        state = self._load(record.batch_id)
        if state.status == "completed":
            return None
        state = replace(state, in_progress_at=state.in_progress_at or int(time.time()), stopped=None)
        self._save(state)
        report = run_requests(
            _requests_in(Path(record.input_file)),
            self._send_for(state.mode, state.model),
            files=self._files(state.job_id),
            lines=result_lines_for(state.endpoint),
            limits=self._limits,
            progress=progress,
        )
        finished = report.unanswered == 0
        state = replace(
            state,
            status="completed" if finished else "in_progress",
            finished_at=int(time.time()) if finished else None,
            stopped=report.stopped,
            resent_after_crash=state.resent_after_crash + report.resent_after_crash,
            retries=state.retries + report.retries,
            rate_limited=state.rate_limited + report.rate_limited,
        )
        self._save(state)
        if report.stopped is not None:
            raise JobStoppedError(f"{state.job_id}: {report.stopped}")
        return report

    def unfinished(self) -> list[str]:
        """The jobs whose last run stopped, or was killed, before every request had its answer: oldest first."""
        if not self.folder.is_dir():
            return []
        states = [self._load(path.parent.name) for path in self.folder.glob("*/job.json")]
        return [
            state.job_id for state in sorted(states, key=lambda state: state.created_at) if state.status != "completed"
        ]

    def status(self, job_id: str) -> BatchStatus:
        state = self._load(job_id)
        files = self._files(job_id)
        completed, failed = _line_count(files.output), _line_count(files.errors)
        return BatchStatus(
            batch_id=job_id,
            status=state.status,
            total=state.requests,
            completed=completed,
            failed=failed,
            progress_pct=round(100 * (completed + failed) / state.requests, 1) if state.requests else 100.0,
            output_file_id=None,
            error_file_id=None,
            created_at=state.created_at,
            in_progress_at=state.in_progress_at,
            finished_at=state.finished_at,
            metadata=_metadata_of(state),
            model=state.model,
            endpoint=state.endpoint,
        )

    def download(self, batch: BatchStatus) -> DownloadedFiles:
        """The job's own result files: they are on disk already, so nothing is copied."""
        files = self._files(batch.batch_id)
        output, errors = _size(files.output), _size(files.errors)
        return DownloadedFiles(
            batch_id=batch.batch_id,
            status=batch.status,
            output=files.output if output else None,
            errors=files.errors if errors else None,
            output_bytes=output,
            errors_bytes=errors,
        )

    def _files(self, job_id: str) -> JobFiles:
        folder = self.folder / job_id
        return JobFiles(output=folder / "output.jsonl", errors=folder / "errors.jsonl", journal=folder / "sent.jsonl")

    def _state_path(self, job_id: str) -> Path:
        return self.folder / job_id / "job.json"

    def _load(self, job_id: str) -> JobState:
        path = self._state_path(job_id)
        if not path.is_file():
            raise UnknownBatchError(f"no realtime or flex job {job_id} in {self.folder}")
        return JobState(**json.loads(path.read_text()))

    def _save(self, state: JobState) -> None:
        path = self._state_path(state.job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state), indent=2))
        temporary.replace(path)


def _metadata_of(state: JobState) -> dict[str, str]:
    metadata = {"mode": state.mode, "submission_id": state.submission_id, "model": state.model}
    if state.stopped:
        metadata["stopped"] = state.stopped
    if state.resent_after_crash:
        metadata["resent_after_crash"] = str(state.resent_after_crash)
    return metadata


def _requests_in(path: Path) -> Iterator[RealtimeRequest]:
    """The request file's lines, read as they are sent."""
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                raw = line.rstrip(b"\r\n")
                call = realtime_call(raw)
                yield RealtimeRequest(custom_id=call.custom_id, line=raw, rate_tokens=call.rate_tokens(raw))


def _line_count(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.endswith(b"\n"))


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


class Jobs:
    """The one interface the steps, the sensor and the command line use for jobs of every mode: batches go to the
    provider's Batch API, realtime and flex jobs to this project's own runner, and a job's id says which."""

    def __init__(self, batches: BatchApi, realtime: RealtimeJobs) -> None:
        self.batches = batches
        self.realtime = realtime
        self.provider = batches.provider
        self.api_name = batches.api_name

    @property
    def base_url(self) -> str:
        return self.batches.base_url

    def submit(
        self,
        shard: Shard,
        *,
        mode: RunMode = "batch",
        records: RecordStore,
        options: SubmitOptions,
        submission_id: str | None = None,
        check: Callable[[Shard], None] | None = None,
    ) -> BatchRecord:
        if mode == "batch":
            return self.batches.submit(
                shard, records=records, options=options, submission_id=submission_id, check=check
            )
        return self.realtime.submit(
            shard, mode=mode, records=records, options=options, submission_id=submission_id, check=check
        )

    def run(self, record: BatchRecord, *, progress: Callable[[int], None] | None = None) -> ExecutorReport | None:
        """Run a realtime or flex job's requests here; a batch runs at its provider, so nothing happens."""
        return self.realtime.run(record, progress=progress) if is_local_job(record.batch_id) else None

    def status(self, batch_id: str) -> BatchStatus:
        return self.realtime.status(batch_id) if is_local_job(batch_id) else self.batches.status(batch_id)

    def statuses(self, batch_ids: Iterable[str]) -> Statuses:
        """Many jobs' statuses: batches from the API's listing, the project's own jobs from the work directory."""
        wanted = list(batch_ids)
        batches = [batch_id for batch_id in wanted if not is_local_job(batch_id)]
        result = self.batches.statuses(batches) if batches else Statuses()
        for batch_id in filter(is_local_job, wanted):
            try:
                result.found[batch_id] = self.realtime.status(batch_id)
            except UnknownBatchError:
                result.unknown.append(batch_id)
        return result

    def download(self, batch: BatchStatus, output: Path) -> DownloadedFiles:
        if not is_local_job(batch.batch_id):
            return self.batches.download(batch, output)
        if not batch.finished:
            raise BatchError(f"job {batch.batch_id} is still {batch.status}; its results are not ready")
        return self.realtime.download(batch)

    def model_warning(self, model: str, *, now: float) -> str | None:
        return self.batches.model_warning(model, now=now)

    def output_expires_in(self, batch: BatchStatus, *, now: float) -> float | None:
        """A realtime or flex job's results live in the work directory, so they never expire."""
        return None if is_local_job(batch.batch_id) else self.batches.output_expires_in(batch, now=now)


FLEX_TIMEOUT_SECONDS = 900.0
"""OpenAI's flex guide gives its calls 15 minutes: flex answers more slowly."""
REALTIME_TIMEOUT_SECONDS = 600.0
"""The SDKs' own default."""


def jobs_of(client: BatchClient, settings: TaggingSettings, *, provider: Provider | None = None) -> Jobs:
    """Every mode's jobs through one SDK client: its provider's Batch API, and its realtime endpoint for the
    realtime and flex jobs of the settings' work directory, within the settings' rate limits. The provider is the
    settings' (or ``provider``), unless the client is another SDK's."""
    batches = batch_api_of(client, provider or settings.batch_provider)
    provider = batches.provider
    deployment = settings.realtime_deployment if provider == "azure" else None

    def send_for(mode: RunMode, model: str) -> Send:
        flex = mode == "flex"
        options = RealtimeOptions(
            model=deployment or model,
            service_tier="flex" if flex else None,
            timeout=FLEX_TIMEOUT_SECONDS if flex else REALTIME_TIMEOUT_SECONDS,
        )
        return realtime_sender(client, provider, options)

    limits = Limits(
        requests_per_minute=settings.max_requests_per_minute,
        tokens_per_minute=settings.max_tokens_per_minute,
        max_concurrency=settings.max_concurrency,
    )
    return Jobs(batches, RealtimeJobs(settings.work_dir, send_for=send_for, limits=limits))
