"""What a work directory knows of the batches it submitted: one small JSON record per batch.

A record is written under the batch's id (to process its results) and under its
submission key (to find the batch again when the same shard is submitted twice).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tagging_assets.core.contracts import Backend, RunMode
from tagging_assets.core.errors import BatchError


@dataclass(frozen=True)
class BatchRecord:
    """Enough to process a batch's results: its input, its index, and what it asked for."""

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
    base_url: str | None = None
    """The Batch API the batch was made at; None in records older than this field."""
    backend: Backend | None = None
    endpoint: str = "/v1/chat/completions"
    mode: RunMode = "batch"
    """How its requests ran: a batch at the provider, or a realtime or flex job run here (``batches/jobs.py``)."""


@dataclass(frozen=True)
class PendingSubmission:
    """A create under way, noted before it goes out: how an API without batch metadata (Anthropic's) finds the
    batch it made when the response is lost or the process dies before the record is written."""

    submission_key: str
    started_at: float
    requests: int


class RecordStore:
    """The records under ``work_dir``: ``batches/{batch_id}.json`` and ``keys/{submission_key}.json``."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir

    def save(self, record: BatchRecord) -> None:
        text = json.dumps(asdict(record), indent=2)
        for folder, name in (("batches", record.batch_id), ("keys", record.submission_key)):
            path = self.work_dir / folder / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def load(self, batch_id: str) -> BatchRecord:
        record = self.find(batch_id)
        if record is None:
            raise BatchError(
                f"no record of batch {batch_id} in {self.work_dir}; it was submitted from another work directory "
                "(set TAGGING_WORK_DIR to that one)"
            )
        return record

    def find(self, batch_id: str) -> BatchRecord | None:
        """The batch's record, or the one set aside for it: enough to say which API made the batch."""
        for path in (
            self.work_dir / "batches" / f"{batch_id}.json",
            self.work_dir / "stale" / f"batches-{batch_id}.json",
        ):
            if path.is_file():
                return BatchRecord(**json.loads(path.read_text()))
        return None

    def set_aside(self, batch_id: str, submission_key: str) -> Path:
        """Move a batch's records into ``stale/``, where nothing looks them up: the API in use does not know the
        batch. They are kept, not deleted, so the batch can be followed again from the API that made it."""
        stale = self.work_dir / "stale"
        stale.mkdir(parents=True, exist_ok=True)
        for folder, name in (("batches", batch_id), ("keys", submission_key)):
            path = self.work_dir / folder / f"{name}.json"
            if path.is_file():
                path.replace(stale / f"{folder}-{name}.json")
        return stale

    def note_pending(self, pending: PendingSubmission) -> None:
        """Note a create about to go out; an earlier note for the same key is kept, since its batch may still
        turn up."""
        path = self._pending_path(pending.submission_key)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(pending)))

    def pending(self, submission_key: str) -> PendingSubmission | None:
        path = self._pending_path(submission_key)
        return PendingSubmission(**json.loads(path.read_text())) if path.is_file() else None

    def clear_pending(self, submission_key: str) -> None:
        self._pending_path(submission_key).unlink(missing_ok=True)

    def _pending_path(self, submission_key: str) -> Path:
        return self.work_dir / "pending" / f"{submission_key}.json"

    def set_aside_unknown(self, batch_id: str, submission_key: str, api_in_use: str) -> str:
        """Set aside the records of a batch the API in use answers 404 for; the warning to give, naming where
        the batch was made."""
        record = self.find(batch_id)
        made_at = record.base_url if record and record.base_url else "another Batch API"
        stale = self.set_aside(batch_id, submission_key)
        return (
            f"batch {batch_id} in {self.work_dir} was made at {made_at}; the Batch API at {api_in_use} "
            f"does not know it, so its record is set aside in {stale} and this input is submitted here"
        )

    def batch_for_key(self, submission_key: str) -> str | None:
        """The batch this work directory made for a submission key, if it made one."""
        path = self.work_dir / "keys" / f"{submission_key}.json"
        return str(json.loads(path.read_text())["batch_id"]) if path.is_file() else None
