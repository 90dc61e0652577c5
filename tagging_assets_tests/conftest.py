"""Fixtures shared by the whole suite: the real transcripts and local gateways, in this process or in their own."""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster
import pytest

from tagging_assets.core.tokens import TokenCounter, counter_for
from tagging_assets_tests.support import Gateway, InProcessGateway, TaggerPools, transcripts_path

_PROCESS_FIXTURES = {"start_gateway_process"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start a process (a gateway process, the command line, PostgreSQL, a browser) and the end-to-end
    tests of ``integration/`` are marked ``subprocess``; ``make test-fast`` leaves them out. A test that talks to
    an in-process gateway (``start_gateway``, ``shared_gateway``) is not: it starts no process of its own."""
    for item in items:
        in_integration = "integration" in Path(str(item.path)).parts
        if in_integration or _PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.subprocess)


@pytest.fixture(scope="session")
def real_transcripts() -> list[dict[str, Any]]:
    with transcripts_path().open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(autouse=True)
def no_tiktoken_encodings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts are estimates unless a test asks for exact ones: an encoding in the developer's own tiktoken
    cache must not change what the tests see."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.mktemp("tiktoken-empty")))


def _install_o200k(folder: Path) -> Path:
    """tiktoken's cache holding o200k_base (gpt-4o-mini's encoding), as a download would have left it: the
    file comes from the bpe-openai package (found, not imported), and tiktoken checks its sha256 on loading."""
    from tagging_assets.core.tokens import cached_encoding_path

    folder.mkdir()
    spec = importlib.util.find_spec("bpe_openai")
    assert spec is not None and spec.origin is not None, "bpe-openai (a dev dependency) is not installed"
    bundled = Path(spec.origin).parent / "data" / "o200k_base.tiktoken.gz"
    cached_encoding_path("o200k_base", folder).write_bytes(gzip.decompress(bundled.read_bytes()))
    return folder


@pytest.fixture
def tiktoken_encodings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TIKTOKEN_CACHE_DIR pointing at a cache that holds o200k_base, so counts are exact."""
    folder = _install_o200k(tmp_path / "tiktoken")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def exact_counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    """gpt-4o-mini's exact counter, once for the session (property tests run it many times)."""
    return counter_for("gpt-4o-mini", _install_o200k(tmp_path_factory.mktemp("o200k") / "tiktoken"))


@pytest.fixture(scope="session")
def tagger_pools() -> Iterator[TaggerPools]:
    """The tagger processes the in-process gateways of this test process borrow, each started once."""
    pools = TaggerPools()
    yield pools
    pools.close()


@pytest.fixture
def start_gateway(tmp_path: Path, tagger_pools: TaggerPools) -> Iterator[Callable[..., InProcessGateway]]:
    """Start a gateway in this process with the given settings and faults; every one started is stopped at the
    end."""
    numbers = itertools.count()
    with contextlib.ExitStack() as running:

        def start(api_key: str | None = None, **settings: Any) -> InProcessGateway:
            state_dir = tmp_path / f"gateway-{next(numbers)}"
            state_dir.mkdir()
            return running.enter_context(InProcessGateway(state_dir, settings, api_key, tagger_pools))

        yield start


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory, tagger_pools: TaggerPools) -> Iterator[InProcessGateway]:
    """One fault-free gateway in this process for the tests that only need a well-behaved API."""
    state_dir = tmp_path_factory.mktemp("shared") / "gateway"
    state_dir.mkdir()
    with InProcessGateway(state_dir, pools=tagger_pools) as gateway:
        yield gateway


@pytest.fixture
def start_gateway_process(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start a gateway process with the given settings and faults, its log in ``gateway-N.log``; every one started
    is stopped at the end. For the tests of the process itself."""
    numbers = itertools.count()
    with contextlib.ExitStack() as running:

        def start(api_key: str | None = None, **settings: Any) -> Gateway:
            name = f"gateway-{next(numbers)}"
            (tmp_path / name).mkdir()
            log = running.enter_context((tmp_path / f"{name}.log").open("ab"))
            return running.enter_context(Gateway(tmp_path / name, settings, api_key, log=log))

        yield start


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "qdrant"


@pytest.fixture
def seeded_cache(cache_path: Path, real_transcripts: list[dict[str, Any]]) -> Path:
    """An embedded cache holding 40 real transcripts; the store is closed again, ready for the code under test."""
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.seed.seeding import seed_cache
    from tagging_assets_tests.support import cache_items

    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, cache_items(real_transcripts, 40))
    return cache_path


@pytest.fixture
def instance():
    with dagster.instance_for_test() as test_instance:
        yield test_instance
