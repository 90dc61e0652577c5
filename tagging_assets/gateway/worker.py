"""The batch lifecycle, run by a background thread:
``validating -> in_progress -> finalizing -> completed``, or ``failed``,
``expired``, ``cancelling -> cancelled``.

Each call advances every active batch by one small step (validate, run one chunk
of lines, finish), and every step commits before the next begins, so several
batches progress side by side and a restart resumes each where it stood.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tagging_assets.core.protocol import MESSAGES
from tagging_assets.gateway import gemini_batches
from tagging_assets.gateway.completions import request_id
from tagging_assets.gateway.input_check import canonical, check_input
from tagging_assets.gateway.messages import batch_result, unfinished_result
from tagging_assets.gateway.paths import gemini_model
from tagging_assets.gateway.pool import TaggerPool
from tagging_assets.gateway.settings import GatewaySettings
from tagging_assets.gateway.store import BatchRow, GatewayStore, LineResult
from tagging_assets.gateway.tagger import BatchTerms
from tagging_assets.gateway.upstream import (
    Upstream,
    UpstreamLine,
    batch_request_id,
    chunk_files,
    remove_batch_folder,
    remove_chunk_files,
)

logger = logging.getLogger(__name__)

UPSTREAM_QUOTA_PAUSE_SECONDS = 30.0
"""How long the worker waits before it sends again to an upstream that answered insufficient_quota: credit may be
added meanwhile, and the batch resumes by itself; until its window ends it stays in_progress."""


class BatchWorker:
    """Moves every active batch through its lifecycle on a background thread."""

    def __init__(
        self, store: GatewayStore, settings: GatewaySettings, pool: TaggerPool, upstream: Upstream | None = None
    ) -> None:
        self._store = store
        self._settings = settings
        self._faults = settings.faults
        self._pool = pool
        self._upstream = upstream
        # A chunk blocks the worker until it is done: with slow lines injected, one line per process keeps
        # every other batch (and a cancel) waiting one line's time at most. An upstream chunk stops taking new
        # lines at a cancel, so it can keep each of its concurrent requests busy a few times over.
        if upstream is not None:
            self._chunk = upstream.limits.max_concurrency * 4
        elif settings.faults.seconds_per_line:
            self._chunk = settings.workers
        else:
            self._chunk = max(16, settings.workers * 8)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="batch-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                moved = self.step()
            except Exception:
                logger.exception("the batch worker's step failed; trying again in a second")
                self._stopping.wait(1)
                continue
            if not moved:
                self._stopping.wait(0.05)

    def step(self) -> bool:
        """Advance each active batch by one step; whether anything moved."""
        moved = False
        for batch_id in self._store.active_batch_ids():
            if self._stopping.is_set():
                break
            row = self._store.get_batch(batch_id)
            if row is not None:
                moved = self._advance(row) or moved
        return moved

    def _advance(self, row: BatchRow) -> bool:
        now = time.time()
        waited = now - row.status_since
        if row.status == "cancelling":
            return self._finish(row, "cancelled")
        if row.status in ("validating", "in_progress") and now >= row.deadline:
            return self._finish(row, "expired")
        if row.status == "validating":
            return waited >= self._faults.validating_stall_seconds and self._validate(row)
        if row.status == "in_progress":
            return self._run_chunk(row)
        if row.status == "finalizing":
            return waited >= self._faults.finalizing_stall_seconds and self._finish(row, "completed")
        return False

    def _validate(self, row: BatchRow) -> bool:
        batch = row.object
        path = self._store.content_path(batch["input_file_id"])
        check = check_input(path, batch["endpoint"], self._settings)
        limit = self._settings.enqueued_token_limit
        if not check.errors and limit is not None and check.model is not None:
            queued = self._store.enqueued_tokens(check.model, excluding=row.id)
            if queued + check.tokens > limit:
                check.fail(
                    "token_limit_exceeded",
                    f"Enqueued token limit reached for {check.model} in organization org-local. "
                    f"Limit: {limit:,} enqueued tokens. Please try submitting fewer tasks or try again later.",
                )
        now = int(time.time())
        if check.errors:
            logger.info("batch %s failed validation: %s", row.id, ", ".join(e["code"] for e in check.errors[:5]))
            self._store.update_batch(
                row.id,
                "validating",
                status="failed",
                failed_at=now,
                errors={"object": "list", "data": check.errors},
            )
        else:
            logger.info("batch %s in_progress: %d requests, ~%d tokens", row.id, check.total, check.tokens)
            self._store.update_batch(
                row.id,
                "validating",
                status="in_progress",
                in_progress_at=now,
                model=check.model,
                request_counts={"total": check.total, "completed": 0, "failed": 0},
                enqueued_tokens=check.tokens,
            )
        return True

    def _run_chunk(self, row: BatchRow) -> bool:
        batch_id = row.id
        jobs: list[tuple[int, str, dict[str, Any]]] = []
        line, offset = row.next_line, row.next_offset
        with self._store.content_path(row.object["input_file_id"]).open("rb") as source:
            source.seek(offset)
            while len(jobs) < self._chunk:
                raw = source.readline()
                if not raw:
                    break
                line += 1
                offset += len(raw)
                if raw.strip():
                    request = json.loads(raw)
                    jobs.append((line, request["custom_id"], request["body"]))
        if not jobs and line == row.next_line:
            self._store.update_batch(batch_id, "in_progress", status="finalizing", finalizing_at=int(time.time()))
            return True
        if self._upstream is not None:
            return self._run_upstream_chunk(row, self._upstream, jobs, line, offset)
        tagger = self._settings.tagger
        terms = self._batch_terms(row) if tagger == "keywords" else None
        endpoint = canonical(row.object["endpoint"])
        answers = self._pool.map(
            [(endpoint, body, custom_id, tagger, self._faults, terms) for _, custom_id, body in jobs]
        )
        record: Callable[[str, int, dict[str, Any]], dict[str, Any]]
        if gemini_model(endpoint):
            record = gemini_batches.line_record
        else:
            record = batch_result if endpoint == MESSAGES else partial(_result_record, batch_id)
        results = [
            LineResult(number, custom_id, status == 200, record(custom_id, status, body))
            for (number, custom_id, _), (status, body) in zip(jobs, answers, strict=True)
        ]
        self._store.record_lines(batch_id, results, line, offset)
        return True

    def _run_upstream_chunk(
        self, row: BatchRow, upstream: Upstream, jobs: list[tuple[int, str, dict[str, Any]]], line: int, offset: int
    ) -> bool:
        """Answer a chunk of lines through the upstream and record it once every line of it has its result line;
        until then (a cancel, a shutdown, a spent quota) the next step runs the same chunk again, sending only
        what was never answered."""
        files = chunk_files(self._upstream_folder(row.id), row.next_line)
        outcome = upstream.run_chunk(
            row.id,
            canonical(row.object["endpoint"]),
            (UpstreamLine(custom_id, body) for _, custom_id, body in jobs),
            files=files,
            keep_going=lambda: not self._stopping.is_set() and self._still_in_progress(row.id),
        )
        if outcome.report.stopped is not None:
            logger.warning("batch %s paused: %s", row.id, outcome.report.stopped)
            self._stopping.wait(UPSTREAM_QUOTA_PAUSE_SECONDS)
        if any(custom_id not in outcome.records for _, custom_id, _ in jobs):
            return True
        results = [LineResult(number, custom_id, *outcome.records[custom_id]) for number, custom_id, _ in jobs]
        self._store.record_lines(row.id, results, line, offset)
        remove_chunk_files(files)
        return True

    def _still_in_progress(self, batch_id: str) -> bool:
        row = self._store.get_batch(batch_id)
        return row is not None and row.status == "in_progress" and time.time() < row.deadline

    def _upstream_folder(self, batch_id: str) -> Path:
        """Where the executor keeps a batch's answers while its chunks run."""
        return self._store.state_dir / "upstream" / batch_id

    def _batch_terms(self, row: BatchRow) -> Path:
        """The file of the terms of every request of the batch, counted on every core before its first line is
        tagged and kept until the batch ends, so that the tagger knows what the whole batch has in common, as a
        model knows what every talk says, and a restart goes on with the same counts. It holds up the other
        batches while it counts: about a tenth of the time the batch takes to tag."""
        path = self._store.terms_path(row.id)
        if not path.exists():
            BatchTerms.of(self._requests_terms(row)).write(path)
        return path

    def _requests_terms(self, row: BatchRow) -> Iterator[set[str]]:
        with self._store.content_path(row.object["input_file_id"]).open("rb") as source:
            while chunk := list(itertools.islice(source, self._chunk * 8)):
                yield from self._pool.terms([raw for raw in chunk if raw.strip()])

    def _finish(self, row: BatchRow, final_status: str) -> bool:
        """Write the output and error files and settle the batch in ``final_status``; a Gemini job writes its
        one results file (``gemini_batches.finish``)."""
        batch_id = row.id
        if gemini_batches.is_gemini_batch(row.object):
            self._store.terms_path(batch_id).unlink(missing_ok=True)
            logger.info("batch %s %s: %s", batch_id, final_status, row.object["request_counts"])
            gemini_batches.finish(self._store, row, final_status)
            return True
        messages = row.object["endpoint"] == MESSAGES
        unfinished = final_status == "expired" or (messages and final_status == "cancelled")
        expired = list(self._unfinished(row, final_status)) if unfinished else []
        counts = dict(row.object["request_counts"])
        output_file_id = error_file_id = None
        if counts["completed"]:
            output_file_id = _generated_file_id(batch_id, "output")
            self._store.add_generated_file(
                output_file_id,
                f"{batch_id}_output.jsonl",
                (json.dumps(result.record) for result in self._store.results(batch_id, ok=True)),
                row.output_ttl,
            )
        if counts["failed"] or expired:
            error_file_id = _generated_file_id(batch_id, "error")
            recorded = (json.dumps(result.record) for result in self._store.results(batch_id, ok=False))
            self._store.add_generated_file(
                error_file_id,
                f"{batch_id}_error.jsonl",
                itertools.chain(recorded, (json.dumps(record) for record in expired)),
                row.output_ttl,
            )
        counts["failed"] += len(expired)
        if messages:
            counts["canceled" if final_status == "cancelled" else "expired"] = len(expired)
        self._store.terms_path(batch_id).unlink(missing_ok=True)
        remove_batch_folder(self._upstream_folder(batch_id))
        logger.info("batch %s %s: %s", batch_id, final_status, counts)
        self._store.update_batch(
            batch_id,
            row.status,
            status=final_status,
            output_file_id=output_file_id,
            error_file_id=error_file_id,
            request_counts=counts,
            **{f"{final_status}_at": int(time.time())},
        )
        return True

    def _unfinished(self, row: BatchRow, final_status: str) -> Iterator[dict[str, Any]]:
        """Error lines for every request the batch never ran before it expired (or, for a Message Batch, was
        cancelled: Anthropic reports those as ``canceled``)."""
        path = self._store.content_path(row.object["input_file_id"])
        offset = row.next_offset if row.status == "in_progress" else 0
        with path.open("rb") as source:
            source.seek(offset)
            for raw in source:
                try:
                    custom_id = json.loads(raw)["custom_id"]
                except (ValueError, KeyError, TypeError):
                    continue
                if row.object["endpoint"] == MESSAGES:
                    yield unfinished_result(custom_id, "canceled" if final_status == "cancelled" else "expired")
                    continue
                yield {
                    "id": batch_request_id(row.id, custom_id),
                    "custom_id": custom_id,
                    "response": None,
                    "error": {
                        "code": "batch_expired",
                        "message": "This request could not be executed before the completion window expired.",
                    },
                }


def _generated_file_id(batch_id: str, kind: str) -> str:
    return "file-" + hashlib.sha256(f"{batch_id}:{kind}".encode()).hexdigest()[:24]


def _result_record(batch_id: str, custom_id: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": batch_request_id(batch_id, custom_id),
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": request_id(f"{batch_id}:{custom_id}"), "body": body},
        "error": None,
    }
