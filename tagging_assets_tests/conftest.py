"""Fixtures shared by the whole suite: the real transcripts and local gateways."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tagging_assets_tests.support import GatewayProcess, transcripts_path


@pytest.fixture(scope="session")
def real_transcripts() -> list[dict[str, Any]]:
    path = transcripts_path()
    if not path.exists():
        pytest.fail(f"the shared transcripts are missing: {path} (set TAGGING_TRANSCRIPTS to their path)")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Start a gateway with the given settings and faults (``TAGGING_GATEWAY_*``); all stop at the end."""
    started: list[GatewayProcess] = []

    def start(api_key: str | None = None, **settings: Any) -> GatewayProcess:
        state_dir = tmp_path / f"gateway-{len(started)}"
        state_dir.mkdir()
        gateway = GatewayProcess(state_dir, settings, api_key).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """One fault-free gateway for the tests that only need a well-behaved API."""
    state_dir = tmp_path_factory.mktemp("shared") / "gateway"
    state_dir.mkdir()
    gateway = GatewayProcess(state_dir, {}).start()
    yield gateway
    gateway.stop()
