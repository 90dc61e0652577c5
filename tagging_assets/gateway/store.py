"""The gateway's durable state: file contents on disk, everything else in SQLite.

Each step of a batch commits in one transaction (the lines it finished, their
counts and usage, and where to resume), so a gateway killed at any instant
restarts exactly where its last commit left it: no line is lost and none is
recorded twice.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tagging_assets.core.protocol import ACTIVE_STATUSES, MESSAGES
from tagging_assets.gateway.usage import add_usage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    object TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL,
    object TEXT NOT NULL,
    deadline REAL NOT NULL,
    status_since REAL NOT NULL,
    next_line INTEGER NOT NULL DEFAULT 0,
    next_offset INTEGER NOT NULL DEFAULT 0,
    enqueued_tokens INTEGER NOT NULL DEFAULT 0,
    output_ttl INTEGER
);
CREATE INDEX IF NOT EXISTS batches_by_status ON batches (status);
CREATE TABLE IF NOT EXISTS results (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    custom_id TEXT NOT NULL,
    ok INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (batch_id, line)
);
"""


@dataclass(frozen=True)
class BatchRow:
    """A batch as stored: the public object plus where its worker stands."""

    object: dict[str, Any]
    deadline: float
    status_since: float
    next_line: int
    next_offset: int
    enqueued_tokens: int
    output_ttl: int | None = None
    """Seconds after it is written that the output and error files expire (``output_expires_after``)."""

    @property
    def id(self) -> str:
        return self.object["id"]

    @property
    def status(self) -> str:
        return self.object["status"]


@dataclass(frozen=True)
class LineResult:
    """One finished line of a batch, ready to write to the output or error file."""

    line: int
    custom_id: str
    ok: bool
    record: dict[str, Any]


class GatewayStore:
    """All reads and writes of the gateway's state, safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.files_dir = state_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(state_dir / "gateway.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # files

    def content_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def terms_path(self, batch_id: str) -> Path:
        """Where a batch's terms are kept while it runs (``BatchTerms``)."""
        return self.files_dir / f".{batch_id}.terms.json"

    def add_file(
        self,
        source: IO[bytes],
        filename: str,
        purpose: str,
        expires_after_seconds: int | None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store an uploaded file; its content is on disk before its record exists. It expires
        ``expires_after_seconds`` after its ``created_at``, if given; ``details`` are kept with it (a Gemini
        file's MIME type)."""
        file_id = "file-" + secrets.token_hex(12)
        partial = self.files_dir / f".{file_id}.partial"
        with partial.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
            target.flush()
            os.fsync(target.fileno())
        partial.rename(self.content_path(file_id))
        return self._record_file(file_id, filename, purpose, expires_after_seconds, details)

    def add_generated_file(
        self,
        file_id: str,
        filename: str,
        lines: Iterator[str],
        expires_after_seconds: int | None,
        details: dict[str, Any] | None = None,
        *,
        purpose: str = "batch_output",
    ) -> dict[str, Any]:
        """Write a batch's output or error file under a fixed id, so finalizing twice writes it once."""
        partial = self.files_dir / f".{file_id}.partial"
        with partial.open("w", encoding="utf-8") as target:
            for line in lines:
                target.write(line)
                target.write("\n")
            target.flush()
            os.fsync(target.fileno())
        partial.replace(self.content_path(file_id))
        return self._record_file(file_id, filename, purpose, expires_after_seconds, details)

    def _record_file(
        self,
        file_id: str,
        filename: str,
        purpose: str,
        expires_after_seconds: int | None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        created_at = int(time.time())
        file_object = {
            "id": file_id,
            "object": "file",
            "bytes": self.content_path(file_id).stat().st_size,
            "created_at": created_at,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": created_at + expires_after_seconds if expires_after_seconds is not None else None,
            "status_details": None,
            **(details or {}),
        }
        with self._transaction() as db:
            db.execute(
                "INSERT INTO files (id, object) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET object = excluded.object",
                (file_id, json.dumps(file_object)),
            )
        return file_object

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        """The file, unless it does not exist or has expired (an expired file is gone, as at OpenAI)."""
        with self._lock:
            row = self._db.execute("SELECT object FROM files WHERE id = ?", (file_id,)).fetchone()
        file_object = json.loads(row[0]) if row else None
        return None if file_object is None or _expired(file_object) else file_object

    def list_files(
        self,
        purpose: str | None,
        after: str | None,
        limit: int,
        ascending: bool,
        *,
        hidden_purposes: Collection[str] = (),
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` files after the cursor ``after``, in the requested order; files of
        ``hidden_purposes`` belong to another API and are left out."""
        clauses: list[str] = []
        params: list[Any] = []
        if purpose:
            clauses.append("json_extract(object, '$.purpose') = ?")
            params.append(purpose)
        if hidden_purposes:
            clauses.append(f"json_extract(object, '$.purpose') NOT IN ({', '.join('?' for _ in hidden_purposes)})")
            params.extend(hidden_purposes)
        if after:
            clauses.append(f"seq {'>' if ascending else '<'} (SELECT seq FROM files WHERE id = ?)")
            params.append(after)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT object FROM files {where} ORDER BY seq {'ASC' if ascending else 'DESC'} LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*params, limit)).fetchall()
        return [file_object for row in rows if not _expired(file_object := json.loads(row[0]))]

    def delete_file(self, file_id: str) -> bool:
        """Forget a file. Its content stays on disk while an active batch still reads it."""
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM files WHERE id = ?", (file_id,)).rowcount > 0
            in_use = db.execute(
                f"SELECT 1 FROM batches WHERE json_extract(object, '$.input_file_id') = ? "
                f"AND status IN ({','.join('?' * len(ACTIVE_STATUSES))})",
                (file_id, *ACTIVE_STATUSES),
            ).fetchone()
        if deleted and not in_use:
            self.content_path(file_id).unlink(missing_ok=True)
        return deleted

    # batches

    def add_batch(self, batch: dict[str, Any], deadline: float, output_ttl: int | None) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO batches (id, status, object, deadline, status_since, output_ttl) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (batch["id"], batch["status"], json.dumps(batch), deadline, time.time(), output_ttl),
            )

    def get_batch(self, batch_id: str) -> BatchRow | None:
        with self._lock:
            return self._row(self._db, batch_id)

    def list_batches(
        self, after: str | None, limit: int, *, messages: bool = False, gemini: bool = False
    ) -> list[dict[str, Any]]:
        """Newest first, as every API lists them: OpenAI's batches, or (``messages``) Anthropic's Message Batches,
        or (``gemini``) Gemini's batch jobs, whose endpoint is their model's generateContent."""
        kind = "gemini" if gemini else "messages" if messages else "openai"
        query = (
            "SELECT object FROM batches WHERE (CASE WHEN json_extract(object, '$.endpoint') = ? THEN 'messages' "
            "WHEN json_extract(object, '$.endpoint') LIKE '%:generateContent' THEN 'gemini' ELSE 'openai' END) = ?"
        )
        params: tuple[Any, ...] = (MESSAGES, kind)
        if after:
            query += " AND seq < (SELECT seq FROM batches WHERE id = ?)"
            params = (*params, after)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def active_batch_ids(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM batches WHERE status IN ({','.join('?' * len(ACTIVE_STATUSES))}) ORDER BY seq",
                ACTIVE_STATUSES,
            ).fetchall()
        return [row[0] for row in rows]

    def enqueued_tokens(self, model: str, excluding: str) -> int:
        """Tokens of the model's batches that passed validation and are not finished."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(enqueued_tokens), 0) FROM batches "
                "WHERE status IN ('in_progress', 'finalizing') AND json_extract(object, '$.model') = ? AND id != ?",
                (model, excluding),
            ).fetchone()
        return int(row[0])

    def update_batch(self, batch_id: str, expected_status: str | None = None, **changes: Any) -> BatchRow | None:
        """Apply ``changes`` to the public object (``object``-level keys) and the worker columns.

        With ``expected_status``, nothing changes unless the batch still has that
        status, so a cancel and the worker never overwrite each other. Returns the
        updated row, or None when the status had moved on.
        """
        columns: dict[str, Any] = {
            key: changes.pop(key) for key in ("next_line", "next_offset", "enqueued_tokens") if key in changes
        }
        with self._transaction() as db:
            return self._update(db, batch_id, expected_status, changes, columns)

    def record_lines(
        self, batch_id: str, results: list[LineResult], next_line: int, next_offset: int
    ) -> BatchRow | None:
        """Record finished lines, their counts and usage, and the resume point, atomically.

        Nothing is recorded if the batch left ``in_progress`` meanwhile (a cancel).
        """
        with self._transaction() as db:
            row = self._row(db, batch_id)
            if row is None or row.status != "in_progress":
                return None
            db.executemany(
                "INSERT OR IGNORE INTO results (batch_id, line, custom_id, ok, record) VALUES (?, ?, ?, ?, ?)",
                [(batch_id, r.line, r.custom_id, int(r.ok), json.dumps(r.record)) for r in results],
            )
            counts = dict(row.object["request_counts"])
            counts["completed"] += sum(1 for r in results if r.ok)
            counts["failed"] += sum(1 for r in results if not r.ok)
            usage = add_usage(row.object["usage"], [r.record for r in results if r.ok])
            return self._update(
                db,
                batch_id,
                "in_progress",
                {"request_counts": counts, "usage": usage},
                {"next_line": next_line, "next_offset": next_offset},
            )

    def results(self, batch_id: str, ok: bool | None) -> Iterator[LineResult]:
        """The batch's recorded lines of one kind (or, with ``ok`` None, of both), in input order, read in
        pages."""
        last = -1
        kinds = (0, 1) if ok is None else (int(ok),)
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT line, custom_id, ok, record FROM results WHERE batch_id = ? "
                    f"AND ok IN ({','.join('?' * len(kinds))}) AND line > ? ORDER BY line LIMIT 1000",
                    (batch_id, *kinds, last),
                ).fetchall()
            if not rows:
                return
            for line, custom_id, succeeded, record in rows:
                yield LineResult(line, custom_id, bool(succeeded), json.loads(record))
            last = rows[-1][0]

    def delete_batch(self, batch_id: str) -> None:
        """Forget a finished batch and its recorded lines (Gemini's ``DELETE``); its files stay until deleted."""
        with self._transaction() as db:
            db.execute("DELETE FROM results WHERE batch_id = ?", (batch_id,))
            db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def _row(self, db: sqlite3.Connection, batch_id: str) -> BatchRow | None:
        row = db.execute(
            "SELECT object, deadline, status_since, next_line, next_offset, enqueued_tokens, output_ttl "
            "FROM batches WHERE id = ?",
            (batch_id,),
        ).fetchone()
        return BatchRow(json.loads(row[0]), *row[1:]) if row else None

    def _update(
        self,
        db: sqlite3.Connection,
        batch_id: str,
        expected_status: str | None,
        changes: dict[str, Any],
        columns: dict[str, Any],
    ) -> BatchRow | None:
        row = self._row(db, batch_id)
        if row is None or (expected_status is not None and row.status != expected_status):
            return None
        batch = {**row.object, **changes}
        status_since = time.time() if batch["status"] != row.status else row.status_since
        assignments = ", ".join(f"{name} = ?" for name in columns)
        db.execute(
            f"UPDATE batches SET status = ?, object = ?, status_since = ?{', ' if columns else ''}{assignments} "
            "WHERE id = ?",
            (batch["status"], json.dumps(batch), status_since, *columns.values(), batch_id),
        )
        return self._row(db, batch_id)


def _expired(file_object: dict[str, Any]) -> bool:
    expires_at = file_object.get("expires_at")
    return expires_at is not None and time.time() >= expires_at
