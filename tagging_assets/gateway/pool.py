"""The tagger's worker processes, shared by the batch worker and the realtime endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from tagging_assets.gateway.completions import answer
from tagging_assets.gateway.settings import FaultSettings
from tagging_assets.gateway.tagger import BatchTerms, document_terms
from tagging_assets.gateway.tokens import user_text

logger = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")

Job = tuple[str, dict[str, Any], str, str, FaultSettings, Path | None]
"""One request: its endpoint, its body, its key (the custom_id), the tagger's name, the faults, and the file of
the terms of the batch it is in (none in realtime)."""


def _answer(job: Job) -> tuple[int, dict[str, Any]]:
    endpoint, body, key, tagger, faults, terms = job
    return answer(endpoint, body, key, tagger, faults, _batch_terms(terms) if terms else None)


def _answer_realtime(job: Job) -> tuple[int, dict[str, Any]]:
    endpoint, body, key, tagger, faults, _ = job
    return answer(endpoint, body, key, tagger, faults, None, realtime=True)


@lru_cache(maxsize=8)
def _batch_terms(path: Path) -> BatchTerms:
    """Each process reads a batch's terms once: a job names the file rather than carrying the counts, which
    would be pickled again for every few lines."""
    return BatchTerms.read(path)


def _terms(line: bytes) -> set[str]:
    """A line whose body is no object holds no terms; it fails on its own when its turn comes."""
    body = json.loads(line).get("body")
    return document_terms(user_text(body)) if isinstance(body, dict) else set()


class TaggerPool:
    """Runs requests on every core, and replaces its processes if one dies.

    A process killed from outside (the OOM killer, say) breaks a
    ``ProcessPoolExecutor`` for good; without a rebuild every batch would stall.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=multiprocessing.get_context("spawn"))

    def map(self, jobs: list[Job]) -> list[tuple[int, dict[str, Any]]]:
        return self._spread(_answer, jobs)

    def terms(self, lines: list[bytes]) -> list[set[str]]:
        """The terms of the text of each line of a batch's input (``document_terms``), each line parsed in the
        process that reads it."""
        return self._spread(_terms, lines)

    def _spread(self, function: Callable[[Item], Result], items: list[Item]) -> list[Result]:
        executor = self._executor
        try:
            return list(executor.map(function, items, chunksize=max(1, len(items) // (self._workers * 4))))
        except BrokenProcessPool:
            self._rebuild(executor)
            raise

    async def run_realtime(self, job: Job) -> tuple[int, dict[str, Any]]:
        """One realtime request, awaited without blocking the event loop."""
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, _answer_realtime, job)
        except BrokenProcessPool:
            self._rebuild(executor)
            raise

    def _rebuild(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                logger.error("a tagger process died; starting new ones")
                self._executor = self._new_executor()
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        self._executor.shutdown(cancel_futures=True)
