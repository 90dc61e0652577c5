"""A realtime job's files on disk: the answers, the errors and the journal of what was sent, appended and flushed
line by line, so that a run killed at any moment resumes where it stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from tagging_assets.core.realtime_calls import JobFiles, ResultLines


class JobStore:
    """The output, error and journal files. Each line is appended and flushed at once under one lock, so a SIGKILL
    loses at most the answers still in flight (flushed bytes belong to the OS, which outlives the process). At
    start it reads back what a previous run wrote, cutting a torn last line (a kill mid-write) before appending."""

    def __init__(self, files: JobFiles, lines: ResultLines, progress: Callable[[int], None] | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.answered: set[str] = set()
        for path in (files.output, files.errors, files.journal):
            _cut_torn_last_line(path)
        for path in (files.output, files.errors):
            self.answered.update(lines.custom_id_of(line) for line in _lines_of(path))
        journal = (line.decode() for line in _lines_of(files.journal))
        self.in_flight_when_killed = {custom_id for custom_id in journal if custom_id not in self.answered}
        self._output = files.output.open("ab")
        self._errors = files.errors.open("ab")
        self._journal = files.journal.open("ab")

    def journal(self, custom_id: str) -> None:
        self._write(self._journal, custom_id.encode())

    def append(self, line: bytes, *, is_error: bool) -> None:
        self._write(self._errors if is_error else self._output, line)
        if self._progress is not None:
            with self._lock:
                self._progress(1)

    def _write(self, file: BinaryIO, line: bytes) -> None:
        if b"\n" in line:
            raise ValueError(f"a result or journal line must be one line: {line[:80]!r}")
        with self._lock:
            file.write(line + b"\n")
            file.flush()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for file in (self._output, self._errors, self._journal):
            file.close()


def _cut_torn_last_line(path: Path) -> None:
    """A last line without its newline is a write the kill interrupted: cut it, so the next line starts clean.
    Creates the file and its folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    with path.open("r+b") as file:
        end = file.seek(0, 2)
        kept = end
        while kept > 0:
            start = max(0, kept - 65536)
            file.seek(start)
            newline = file.read(kept - start).rfind(b"\n")
            if newline >= 0:
                kept = start + newline + 1
                break
            kept = start
        if kept != end:
            file.truncate(kept)


def _lines_of(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        yield from (line.rstrip(b"\n") for line in file if line.strip())
