"""BatchProcessor: the whole batch workflow over one cache and one Batch API client.

prepare -> submit -> check status -> download -> process. Each step is safe to
repeat: a submission is found again by its key, the sha256 of its input and index (locally, then in the
batches' metadata) instead of being paid for twice, and processing the same
results again writes the same payloads.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import openai
from openai import OpenAI
from openai.types import Batch
from qdrant_client import models

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cache import PointId, QdrantCache
from tagging_assets.core.contracts import TaggingState
from tagging_assets.core.cost import EXPECTED_OUTPUT_TOKENS, cost_of, enforce_cap
from tagging_assets.core.prompt import SYSTEM_PROMPT
from tagging_assets.core.results import Outcome, ParseProblem, read_outcomes
from tagging_assets.core.shards import (
    MAX_TRANSCRIPT_TOKENS,
    CacheItem,
    SelectionReport,
    Shard,
    collector_paused,
    index_path_for,
    prompt_version_for,
    read_index,
    select_items,
    write_shards,
)
from tagging_assets.core.tokens import TokenCounter, counter_for

TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINT = "/v1/chat/completions"
SAMPLE_SIZE = 10
_LISTED_BATCHES_TO_SEARCH = 1000
_LISTED_FILES_TO_SEARCH = 10_000
_UNKNOWN_OUTCOME = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
_T = TypeVar("_T")
_PAGE = 512


class BatchError(RuntimeError):
    """A batch step cannot go on; the message says why and what to do."""


class TokenBudgetError(BatchError):
    """Submitting now would queue more tokens for the model than its enqueued-token budget allows."""


@dataclass(frozen=True)
class BatchRecord:
    """What this work directory knows of a batch it submitted: enough to process its results."""

    batch_id: str
    input_file: str
    index_file: str
    input_sha256: str
    submission_key: str
    input_file_id: str
    requests: int
    model: str
    prompt_version: str
    submission_id: str
    created_at: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _iso(timestamp: int | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None


class BatchProcessor:
    """Tags the cache's transcripts through the Batch API.

    ``work_dir`` holds the input files, downloaded results and one small record
    per submitted batch. ``cache`` may be None for the steps that only talk to the
    API (status, download), since opening an embedded store loads all of it, and
    ``client`` may be None for ``prepare``, which only reads the cache.
    """

    def __init__(
        self,
        cache: QdrantCache | None,
        client: OpenAI | None,
        model: str = "gpt-4o-mini",
        work_dir: Path = Path(".tagging"),
        max_attempts: int = 3,
        max_transcript_tokens: int = MAX_TRANSCRIPT_TOKENS,
        max_cost_usd: float | None = None,
        enqueued_token_limit: int | None = None,
    ) -> None:
        self._cache = cache
        self._client = client
        self.model = model
        self.work_dir = work_dir
        self.max_attempts = max_attempts
        self.max_transcript_tokens = max_transcript_tokens
        self.max_cost_usd = max_cost_usd
        self.enqueued_token_limit = enqueued_token_limit
        self.write_attempts = 6

    @cached_property
    def counter(self) -> TokenCounter:
        """Exact token counts when tiktoken has the model's encoding on this machine, else the estimate."""
        return counter_for(self.model)

    @property
    def client(self) -> OpenAI:
        if self._client is None:
            raise BatchError("this step talks to the Batch API, but the processor was made without a client")
        return self._client

    @property
    def cache(self) -> QdrantCache:
        if self._cache is None:
            raise BatchError("this step writes to the cache, but the processor was made without one")
        return self._cache

    # prepare

    def select(
        self,
        report: SelectionReport,
        filters: models.Filter | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[CacheItem]:
        """The items that need tags, streamed from the cache."""
        self.cache.require()
        return select_items(
            self.cache,
            report,
            self.model,
            prompt_version_for(system_prompt),
            self.max_attempts,
            only=filters,
            max_transcript_tokens=self.max_transcript_tokens,
            counter=self.counter,
            progress=progress,
        )

    def prepare_batch_input(
        self, filters: models.Filter | None = None, system_prompt: str = SYSTEM_PROMPT, output_file: Path | str = ""
    ) -> int:
        """Write one JSONL input file (plus ``.partN`` files beyond the API's limits); the number of requests."""
        return sum(shard.requests for shard in self.prepare_files(output_file, filters, system_prompt))

    def prepare_files(
        self,
        output_file: Path | str = "",
        filters: models.Filter | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        report: SelectionReport | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Shard]:
        """``prepare_batch_input``, returning each file written with its size and input tokens.
        ``progress`` hears of the points scanned, a thousand at a time."""
        output = Path(output_file or self.work_dir / "batch_input.jsonl")

        def path_for(number: int) -> Path:
            return output if number == 1 else output.with_name(f"{output.stem}.part{number}{output.suffix}")

        items = self.select(report if report is not None else SelectionReport(), filters, system_prompt, progress)
        with collector_paused():
            shards = write_shards(
                items,
                path_for,
                self.model,
                system_prompt,
                max_tokens=self.enqueued_token_limit,
                counter=self.counter,
            )
        if not shards:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(b"")
            index_path_for(output).write_bytes(b"")
        return shards

    # submit

    def submit_batch(self, input_file: Path | str, submission_id: str | None = None) -> str:
        """Upload one input file and create its batch, or adopt the batch already made from the same bytes.

        Each step is safe to repeat after a crash at any point: the batch is found
        again by its submission key, its record is rewritten, and points not yet
        marked pending are marked. The key covers the index too (the items' attempt
        counts), so a retry of the same requests after a finished batch is a new batch.
        """
        path = Path(input_file)
        if not path.is_file():
            raise BatchError(f"no input file at {path}")
        index_file = index_path_for(path)
        if not index_file.is_file():
            raise BatchError(f"no index next to {path} (expected {index_file}); write the input with `prepare`")
        audit = audit_input_files([path])
        if audit.requests == 0:
            raise BatchError(f"{path} holds no requests: nothing to submit")
        if audit.problems:
            raise BatchError(f"{path} is not a valid batch input: {'; '.join(audit.problems[:3])}")
        requests = audit.requests
        sha256 = file_sha256(path)
        key = hashlib.sha256(f"{sha256}:{file_sha256(index_file)}".encode()).hexdigest()
        prompt_version = _prompt_version_of(path)
        batch = self.find_batch(key)
        if batch is None:
            tokens = _input_tokens(index_file)
            enforce_cap(cost_of(self.model, tokens, requests * EXPECTED_OUTPUT_TOKENS), self.max_cost_usd, path.name)
            self._check_budget(tokens, path)
            input_file_id = self._upload(path, sha256)
            batch = self._create(input_file_id, sha256, key, submission_id, prompt_version, requests, tokens)
        metadata = batch.metadata or {}
        record = BatchRecord(
            batch_id=batch.id,
            input_file=str(path.resolve()),
            index_file=str(index_file.resolve()),
            input_sha256=sha256,
            submission_key=key,
            input_file_id=batch.input_file_id,
            requests=requests,
            model=metadata.get("model", self.model),
            prompt_version=prompt_version,
            submission_id=metadata.get("submission_id", submission_id or ""),
            created_at=batch.created_at,
        )
        self._save_record(record)
        self.mark_pending(record)
        return batch.id

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
                return self._once.files.create(file=(filename, content), purpose="batch").id

        return find() or self._write_once(upload, find, f"uploading {path.name}")

    def _create(
        self,
        input_file_id: str,
        sha256: str,
        key: str,
        submission_id: str | None,
        prompt_version: str,
        requests: int,
        tokens: int,
    ) -> Batch:
        metadata = {
            "input_sha256": sha256,
            "submission_key": key,
            "submission_id": submission_id or str(uuid.uuid4()),
            "collection": self.cache.collection,
            "model": self.model,
            "prompt_version": prompt_version,
            "requests": str(requests),
            "input_tokens": str(tokens),
        }

        def create() -> Batch:
            return self._once.batches.create(
                input_file_id=input_file_id, endpoint=ENDPOINT, completion_window="24h", metadata=metadata
            )

        return self._write_once(create, lambda: self.find_batch(key), "creating the batch")

    @property
    def _once(self) -> OpenAI:
        """The client without the SDK's own retries, for calls that must not happen twice."""
        return self.client.with_options(max_retries=0)

    def _write_once(self, write: Callable[[], _T], find: Callable[[], _T | None], what: str) -> _T:
        """Make a call that must take effect once. When it fails in a way that leaves its outcome unknown
        (the connection dropped, a 5xx, a 429), look for its effect before trying again, so a response lost
        on the way back never becomes a second upload or a second, billed batch."""
        error: openai.APIError | None = None
        for attempt in range(self.write_attempts):
            try:
                return write()
            except _UNKNOWN_OUTCOME as failure:
                error = failure
            found = find()
            if found is not None:
                return found
            time.sleep(_backoff(attempt, error))
        raise BatchError(f"{what} failed {self.write_attempts} times; the last error: {_describe(error)}")

    def in_flight_tokens(self) -> int:
        """Input tokens this project has queued for the model in batches not yet finished."""
        total = 0
        for number, batch in enumerate(self.client.batches.list(limit=100)):
            if number >= _LISTED_BATCHES_TO_SEARCH:
                break
            metadata = batch.metadata or {}
            if batch.status not in TERMINAL_STATUSES and metadata.get("model") == self.model:
                total += int(metadata.get("input_tokens", "0") or 0)
        return total

    def _check_budget(self, tokens: int, path: Path) -> None:
        if self.enqueued_token_limit is None:
            return
        queued = self.in_flight_tokens()
        if queued + tokens > self.enqueued_token_limit:
            raise TokenBudgetError(
                f"{path.name} (~{tokens:,} tokens) would queue {queued + tokens:,} tokens for {self.model}, over the "
                f"budget of {self.enqueued_token_limit:,} (TAGGING_ENQUEUED_TOKEN_LIMIT); submit it once batches "
                "in flight have finished"
            )

    def find_batch(self, key: str) -> Batch | None:
        """A batch already made for this submission key and not failed: from this work dir's records, then the API's
        metadata (which survives a lost work dir)."""
        by_key = self.work_dir / "keys" / f"{key}.json"
        if by_key.is_file():
            batch = self.client.batches.retrieve(json.loads(by_key.read_text())["batch_id"])
            return batch if batch.status != "failed" else None
        for number, batch in enumerate(self.client.batches.list(limit=100)):
            if number >= _LISTED_BATCHES_TO_SEARCH:
                break
            if (batch.metadata or {}).get("submission_key") == key and batch.status != "failed":
                return batch
        return None

    def mark_pending(self, record: BatchRecord) -> int:
        """Record on each submitted point that it waits on this batch; points that already name this
        batch (pending on it, or processed) are left alone, so marking twice changes nothing."""
        submitted_at = _iso(record.created_at)
        entries = list(read_index(Path(record.index_file)).values())
        marked = 0
        for start in range(0, len(entries), _PAGE):
            page = entries[start : start + _PAGE]
            current = self.cache.retrieve([entry["point_id"] for entry in page], ["tagging"])
            updates = [
                (
                    entry["point_id"],
                    {
                        "tagging": TaggingState(
                            status="pending",
                            batch_id=record.batch_id,
                            model=record.model,
                            prompt_version=record.prompt_version,
                            content_hash=entry["content_hash"],
                            attempts=entry["attempts"],
                            truncated=entry.get("truncated", False),
                            submitted_at=submitted_at,
                            updated_at=submitted_at,
                        ).model_dump()
                    },
                )
                for entry in page
                if (current.get(entry["point_id"], {}).get("tagging") or {}).get("batch_id") != record.batch_id
            ]
            marked += self.cache.set_payloads(updates)
        return marked

    def record(self, batch_id: str) -> BatchRecord:
        path = self.work_dir / "batches" / f"{batch_id}.json"
        if not path.is_file():
            raise BatchError(
                f"no record of batch {batch_id} in {self.work_dir}; it was submitted from another work directory "
                "(set TAGGING_WORK_DIR to that one)"
            )
        return BatchRecord(**json.loads(path.read_text()))

    def _save_record(self, record: BatchRecord) -> None:
        for folder, name in (("batches", record.batch_id), ("keys", record.submission_key)):
            path = self.work_dir / folder / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(record), indent=2))

    # status

    def check_status(self, batch_id: str) -> dict[str, Any]:
        """The batch's status and progress, as plain data."""
        batch = self.client.batches.retrieve(batch_id)
        return status_summary(batch)

    # results

    def download_results(
        self, batch_id: str, output_file: Path | str | None = None, batch: Batch | None = None
    ) -> dict[str, Any]:
        """Stream the output and error files to disk; ``output_file`` names the output, errors go beside it.
        A caller that has just retrieved the batch passes it, to spare a second status call."""
        batch = batch or self.client.batches.retrieve(batch_id)
        if batch.status not in TERMINAL_STATUSES:
            raise BatchError(f"batch {batch_id} is still {batch.status}; its results are not ready")
        output = Path(output_file or self.work_dir / "results" / batch_id / "output.jsonl")
        errors = output.with_name(output.stem + ".errors.jsonl")
        output.parent.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Any] = {"status": batch.status, "output": None, "errors": None}
        for key, file_id, target in (("output", batch.output_file_id, output), ("errors", batch.error_file_id, errors)):
            if file_id:
                self._download(file_id, target)
                paths[key] = str(target)
                paths[f"{key}_bytes"] = target.stat().st_size
        return paths

    def _download(self, file_id: str, target: Path) -> None:
        """Stream one file to disk, starting over if the connection drops mid-body (which the SDK's
        retries cannot cover once a streamed response has begun); the file appears only when complete."""
        partial = target.with_name(target.name + ".partial")
        error: Exception | None = None
        for attempt in range(self.write_attempts):
            try:
                with self.client.files.with_streaming_response.content(file_id) as response, partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                partial.replace(target)
                return
            except (*_UNKNOWN_OUTCOME, httpx2.TransportError) as failure:
                error = failure
            time.sleep(_backoff(attempt, error if isinstance(error, openai.APIError) else None))
        raise BatchError(f"downloading {file_id} failed {self.write_attempts} times; the last error: {error}")

    def process_results(
        self,
        batch_id: str,
        output_file: Path | str | None = None,
        errors_file: Path | str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Write each request's outcome into the cache: tags and summary, or the failure and its reason.

        Without file paths it downloads them first. Every submitted custom_id ends
        tagged or failed; ids in neither file are failed as missing. ``progress``
        hears of the points written, a batched write at a time.
        """
        record = self.record(batch_id)
        batch = self.client.batches.retrieve(batch_id)
        if batch.status not in TERMINAL_STATUSES:
            raise BatchError(f"batch {batch_id} is still {batch.status}; process it once it has finished")
        if output_file is None and errors_file is None:
            paths = self.download_results(batch_id, batch=batch)
            output_file, errors_file = paths["output"], paths["errors"]
        return self.write_results(record, batch, output_file, errors_file, progress)

    def write_results(
        self,
        record: BatchRecord,
        batch: Batch,
        output_file: Path | str | None,
        errors_file: Path | str | None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Stream the result files into the cache in batched writes, one outcome per submitted custom_id."""
        index = read_index(Path(record.index_file))
        tally = _Tally()
        problems: list[ParseProblem] = []
        updates = self._updates(record, batch, index, tally, problems, output_file, errors_file)
        with collector_paused():
            self.cache.set_payloads(updates, progress=progress)
        return tally.summary(record, batch, problems)

    def _updates(
        self,
        record: BatchRecord,
        batch: Batch,
        index: dict[str, dict[str, Any]],
        tally: _Tally,
        problems: list[ParseProblem],
        output_file: Path | str | None,
        errors_file: Path | str | None,
    ) -> Iterator[tuple[PointId, dict[str, Any]]]:
        finished_at = batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at
        common = {
            "batch_id": record.batch_id,
            "model": record.model,
            "prompt_version": record.prompt_version,
            "submitted_at": _iso(record.created_at),
            "updated_at": _iso(finished_at),
        }
        seen: set[str] = set()
        for path in (output_file, errors_file):
            if path is None:
                continue
            for outcome in read_outcomes(Path(path), problems):
                entry = index.get(outcome.custom_id)
                if entry is None:
                    tally.unknown += 1
                    continue
                if outcome.custom_id in seen:
                    tally.duplicates += 1
                    continue
                seen.add(outcome.custom_id)
                tally.add(outcome)
                yield entry["point_id"], _payload(outcome, entry, common)
        missing_reason = _missing_reason(batch)
        for custom_id, entry in index.items():
            if custom_id not in seen:
                outcome = Outcome(custom_id, None, missing_reason)
                tally.add(outcome)
                yield entry["point_id"], _payload(outcome, entry, common)


def _backoff(attempt: int, error: openai.APIError | None) -> float:
    """Seconds to wait: the server's Retry-After when it gave one, else exponential from half a second."""
    if isinstance(error, openai.APIStatusError):
        retry_after = error.response.headers.get("retry-after")
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), 60.0)
    return min(0.5 * 2**attempt, 8.0)


def _describe(error: openai.APIError | None) -> str:
    if isinstance(error, openai.APIStatusError):
        body = error.body if isinstance(error.body, dict) else {}
        return f"HTTP {error.status_code}: {body.get('message') or error.message}"
    return f"{type(error).__name__}: {error}"


def _missing_reason(batch: Batch) -> str:
    if batch.status == "failed":
        codes = (
            ", ".join(sorted({error.code or "unknown" for error in (batch.errors.data or [])})) if batch.errors else ""
        )
        return f"batch_failed: the batch failed validation ({codes or 'no reason given'})"
    return f"missing_from_results: in neither the output nor the error file of a {batch.status} batch"


def _payload(outcome: Outcome, entry: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    """What write-back merges into one point. The ``tagging`` object has exactly ``TaggingState``'s fields (a
    test holds it to that), built as a plain dict: making the model only to dump it again took a fifth of
    write-back's own time."""
    tagging = {
        "status": "tagged" if outcome.ok else "failed",
        "content_hash": entry["content_hash"],
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "error": outcome.error,
        "retryable": outcome.retryable,
        "attempts": entry["attempts"] + 1,
        "truncated": entry.get("truncated", False),
        **common,
    }
    payload: dict[str, Any] = {"tagging": tagging}
    if outcome.output is not None:
        payload["tags"] = outcome.output.tags
        payload["summary"] = outcome.output.summary
    return payload


def _input_tokens(index_file: Path) -> int:
    """The input tokens prepare counted for every request of a shard."""
    try:
        return sum(entry["input_tokens"] for entry in read_index(index_file).values())
    except KeyError:
        raise BatchError(
            f"{index_file} does not give each request's input tokens; write the input again with `prepare`"
        ) from None


def _prompt_version_of(path: Path) -> str:
    """The prompt version of an input file, from its first request's system message."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                messages = json.loads(line)["body"]["messages"]
                system = next((m["content"] for m in messages if m.get("role") == "system"), SYSTEM_PROMPT)
                return prompt_version_for(system)
    return prompt_version_for(SYSTEM_PROMPT)


class _Tally:
    """Running counts of one batch's outcomes, and a sample of its tags."""

    def __init__(self) -> None:
        self.tagged = 0
        self.failed: Counter[str] = Counter()
        self.unknown = 0
        self.duplicates = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.tags: Counter[str] = Counter()
        self.sample: list[dict[str, Any]] = []

    def add(self, outcome: Outcome) -> None:
        self.input_tokens += outcome.input_tokens
        self.output_tokens += outcome.output_tokens
        if outcome.output is None:
            self.failed[(outcome.error or "unknown").split(":", 1)[0]] += 1
            return
        self.tagged += 1
        self.tags.update(outcome.output.tags)
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(
                {"custom_id": outcome.custom_id, "tags": outcome.output.tags, "summary": outcome.output.summary}
            )

    def summary(self, record: BatchRecord, batch: Batch, problems: list[ParseProblem]) -> dict[str, Any]:
        input_tokens = batch.usage.input_tokens if batch.usage else self.input_tokens
        output_tokens = batch.usage.output_tokens if batch.usage else self.output_tokens
        cost = cost_of(record.model, input_tokens, output_tokens)
        return {
            "batch_id": record.batch_id,
            "status": batch.status,
            "submitted": record.requests,
            "tagged": self.tagged,
            "failed": sum(self.failed.values()),
            "failed_by_reason": dict(self.failed),
            "unknown_custom_ids": self.unknown,
            "duplicate_lines": self.duplicates,
            "unreadable_lines": len(problems),
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost_batch_usd": round(cost.batch_usd, 6),
            "cost_realtime_usd": round(cost.realtime_usd, 6),
            "saving_usd": round(cost.saving_usd, 6),
            "tags_written": dict(self.tags.most_common()),
            "sample": self.sample,
        }


def status_summary(batch: Batch) -> dict[str, Any]:
    """A batch's status and progress as plain data, for printing and metadata."""
    counts = batch.request_counts
    total = counts.total if counts else 0
    done = (counts.completed + counts.failed) if counts else 0
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "total": total,
        "completed": counts.completed if counts else 0,
        "failed": counts.failed if counts else 0,
        "progress_pct": round(100 * done / total, 1) if total else 0.0,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "errors": [error.model_dump() for error in (batch.errors.data or [])] if batch.errors else [],
        "created_at": batch.created_at,
        "finalizing_at": batch.finalizing_at,
        "metadata": batch.metadata or {},
    }


def stuck_for(status: dict[str, Any], now: float, after_seconds: float) -> float | None:
    """Seconds a batch has sat in ``validating`` or ``finalizing`` past ``after_seconds``, if it has."""
    since = {"validating": status["created_at"], "finalizing": status.get("finalizing_at")}.get(status["status"])
    if since is None or now - since < after_seconds:
        return None
    return now - since
