"""What the tests read back of what the code under test did: a point's payload as the store holds it, what a
gateway made, and the command line's output in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from qdrant_client import models

from tagging_assets.core.cache import QdrantCache
from tagging_assets_tests.support import ServedGateway


def stored_payloads(
    cache: QdrantCache, fields: list[str], only: models.Filter | None = None
) -> Iterator[tuple[Any, dict]]:
    """Every point's id and raw payload fields, as the store holds them: what a test checks was written."""
    offset = None
    while True:
        points, offset = cache.client.scroll(
            cache.collection, scroll_filter=only, limit=256, offset=offset, with_payload=fields, with_vectors=False
        )
        for point in points:
            yield (str(point.id) if isinstance(point.id, UUID) else point.id), point.payload or {}
        if offset is None:
            return


def stored_payloads_by_id(cache: QdrantCache, ids: list[Any], fields: list[str]) -> dict[Any, dict]:
    """The raw payload fields of the points with these ids."""
    return dict(point for point in stored_payloads(cache, fields) if point[0] in ids)


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, as a user runs it."""
    command = [sys.executable, "-m", "tagging_assets", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def batches_and_uploads(gateway: ServedGateway) -> tuple[list[str], list]:
    """Every batch the gateway made, in any protocol, and every batch upload (Anthropic's and Gemini's inline
    requests make none)."""
    return list(gateway.batches()), list(gateway.client().files.list(purpose="batch"))


def statuses(cache_path: Path) -> dict[str, dict]:
    """Each video's tagging state in the cache at ``cache_path``, as stored."""
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        return {
            payload["video_id"]: payload.get("tagging") or {}
            for _, payload in stored_payloads(cache, ["video_id", "tagging"])
        }
