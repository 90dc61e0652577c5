"""Fixtures shared by the whole suite: the real transcripts and local gateways."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster
import pytest

from tagging_assets_tests.support import Gateway, transcripts_path


@pytest.fixture(scope="session")
def real_transcripts() -> list[dict[str, Any]]:
    path = transcripts_path()
    if not path.exists():
        pytest.fail(f"the shared transcripts are missing: {path} (set TAGGING_TRANSCRIPTS to their path)")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start a gateway with the given settings and faults; every one started is stopped at the end."""
    numbers = itertools.count()
    with contextlib.ExitStack() as running:

        def start(api_key: str | None = None, **settings: Any) -> Gateway:
            name = f"gateway-{next(numbers)}"
            (tmp_path / name).mkdir()
            log = running.enter_context((tmp_path / f"{name}.log").open("ab"))
            return running.enter_context(Gateway(tmp_path / name, settings, api_key, log=log))

        yield start


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One fault-free gateway for the tests that only need a well-behaved API."""
    root = tmp_path_factory.mktemp("shared")
    (root / "gateway").mkdir()
    with (root / "gateway.log").open("ab") as log, Gateway(root / "gateway", log=log) as gateway:
        yield gateway


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "qdrant"


@pytest.fixture
def seeded_cache(cache_path: Path, real_transcripts: list[dict[str, Any]]) -> Path:
    """An embedded cache holding 40 real transcripts; the store is closed again, ready for the code under test."""
    from tagging_assets.cache import QdrantCache
    from tagging_assets.seed import seed_cache
    from tagging_assets_tests.support import cache_items

    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, cache_items(real_transcripts, 40))
    return cache_path


@pytest.fixture
def instance():
    with dagster.instance_for_test() as test_instance:
        yield test_instance
