"""Helpers for tests that drive a gateway through the openai SDK."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pytest
from anthropic import Anthropic
from dagster import DagsterInstance, build_sensor_context
from google import genai
from google.genai import types
from openai import OpenAI
from openai.types import Batch

from tagging_assets.core.settings import TaggingSettings
from tagging_assets.definitions import build_definitions
from tagging_assets.defs.resources import BatchApiResource, QdrantCacheResource, TaggingResource
from tagging_assets.defs.sensors import batch_status_sensor
from tagging_assets.gateway.process import GatewayProcess, free_port
from tagging_assets.gateway.settings import FaultSettings, GatewaySettings
from tagging_assets.seed.seeding import Transcript

if TYPE_CHECKING:
    from tagging_assets.gateway.pool import TaggerPool

REPO_ROOT = Path(__file__).resolve().parent.parent
_TWIN_SUFFIX = re.compile(r"\s*\((PyTorch|TensorFlow)\)\s*$")
TERMINAL_STATUSES = ("completed", "failed", "expired", "cancelled")


def transcripts_path() -> Path:
    """The shared real transcripts: ``TAGGING_TRANSCRIPTS``, else ``../shared/data`` beside the checkout.

    They are a clone made outside this repository, so a test that needs them is skipped, with the reason, where
    they are absent; in CI (``CI=true``) they must be there, and their absence fails the test.
    """
    configured = os.environ.get("TAGGING_TRANSCRIPTS")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "transcripts.jsonl"
    if not path.exists():
        missing = f"the shared transcripts are missing: {path} (set TAGGING_TRANSCRIPTS to their path)"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return path


class ServedGateway:
    """What a test asks of a running gateway, wherever it runs: SDK clients, and the gateway's own view of what it
    served (``/stats``)."""

    api_key: str | None
    port: int
    base_url: str
    state_dir: Path

    def client(self, **options: Any) -> OpenAI:
        return OpenAI(base_url=self.base_url, api_key=self.api_key or "sk-local", **options)

    def anthropic_client(self, **options: Any) -> Anthropic:
        return Anthropic(base_url=f"http://127.0.0.1:{self.port}", api_key=self.api_key or "sk-local", **options)

    def gemini_client(self, **http_options: Any) -> genai.Client:
        """google-genai's client against this gateway (``http_options`` as ``types.HttpOptions`` takes them, e.g.
        ``api_version="v1beta"``); its key is the gateway's."""
        options = types.HttpOptions(base_url=f"http://127.0.0.1:{self.port}", **http_options)
        return genai.Client(api_key=self.api_key or "gemini-local", http_options=options)

    def _stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats") as response:
            return json.load(response)

    def served(self) -> dict[str, int]:
        """API requests served since start, by method and route (the gateway's /stats)."""
        return self._stats()["requests"]

    def realtime_arrivals(self) -> dict[str, Any]:
        """The realtime requests that reached the API, by the custom_id the executor names them by
        (``received``), in ``total``, and the 429s sent by reason (``429_by_reason``)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats/realtime") as response:
            return json.load(response)

    def batches(self) -> dict[str, dict[str, Any]]:
        """Every batch the gateway holds, OpenAI's, Anthropic's and Gemini's (by its ``batches/…`` name): its
        status and request counts as the worker sees them."""
        return self._stats()["batches"]

    def wait_until(self, batch_id: str, statuses: tuple[str, ...] = TERMINAL_STATUSES, timeout: float = 120) -> dict:
        """Poll the gateway's own view of a batch, in any protocol, until it reaches one of ``statuses``."""
        deadline = time.monotonic() + timeout
        while (batch := self.batches()[batch_id])["status"] not in statuses:
            if time.monotonic() > deadline:
                raise AssertionError(f"batch {batch_id} still {batch['status']} after {timeout} s")
            time.sleep(0.05)
        return batch


class Gateway(ServedGateway, GatewayProcess):
    """A gateway in its own process, as a user starts it: for the tests of the process itself (startup, binding,
    signals, a SIGKILL and a restart)."""


class TaggerPools:
    """Tagger processes for the in-process gateways of one test process, lent to one gateway at a time and kept
    for the next: a gateway starts without waiting for new processes, and no two running gateways share any."""

    def __init__(self) -> None:
        self._idle: dict[int, list[TaggerPool]] = {}
        self._lock = threading.Lock()

    def borrow(self, workers: int) -> TaggerPool:
        from tagging_assets.gateway.pool import TaggerPool

        with self._lock:
            idle = self._idle.setdefault(workers, [])
            return idle.pop() if idle else TaggerPool(workers)

    def give_back(self, workers: int, pool: TaggerPool) -> None:
        with self._lock:
            self._idle.setdefault(workers, []).append(pool)

    def close(self) -> None:
        with self._lock:
            for pools in self._idle.values():
                for pool in pools:
                    pool.shutdown()
            self._idle.clear()


class InProcessGateway(ServedGateway):
    """The same app served by uvicorn on a loopback port, in a thread of the test process: a real server that the
    SDKs reach over HTTP, without a process to start. ``settings`` are gateway settings and faults by field name;
    ``pools`` lends it tagger processes (without it, the app starts its own)."""

    def __init__(
        self,
        state_dir: Path,
        settings: dict[str, Any] | None = None,
        api_key: str | None = None,
        pools: TaggerPools | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.settings = settings or {}
        self.api_key = api_key
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._pools = pools
        self._pool: TaggerPool | None = None
        self._workers = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        import uvicorn

        from tagging_assets.gateway.app import build_app

        faults = {name: value for name, value in self.settings.items() if name in FaultSettings.model_fields}
        fields = {name: value for name, value in self.settings.items() if name not in faults}
        settings = GatewaySettings(
            state_dir=self.state_dir, api_key=self.api_key, faults=FaultSettings(**faults), **fields
        )
        if self._pools is not None:
            self._workers = settings.workers
            self._pool = self._pools.borrow(self._workers)
        listening = socket.create_server(("127.0.0.1", self.port))
        config = uvicorn.Config(build_app(settings, pool=self._pool), log_level="warning", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listening]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the in-process gateway did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut the server down as SIGTERM would: the batch worker stops; borrowed tagger processes go back to the
        lender, the app's own end."""
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            self._thread = None
        if self._pools is not None and self._pool is not None:
            self._pools.give_back(self._workers, self._pool)
            self._pool = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def shard_options(model: str = "gpt-4o-mini", endpoint: str = "/v1/chat/completions") -> dict[str, Any]:
    """What ``write_shards`` needs besides the items: the model's request options, from its profile, and the
    endpoint."""
    from tagging_assets.core.models import model_table

    return {"options": model_table().profile(model).request_options(), "endpoint": endpoint}


def request_line(custom_id: str, text: str, model: str = "gpt-4o-mini", **body: Any) -> dict[str, Any]:
    """One Batch API input line asking for tags of ``text``."""
    from tagging_assets.wire import tagging_response_format

    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": model,
            "messages": [
                {"role": "system", "content": "Tag this transcript. Reply with JSON: tags and a summary."},
                {"role": "user", "content": text},
            ],
            "response_format": tagging_response_format(),
            **body,
        },
    }


def message_request(custom_id: str, text: str, model: str = "claude-haiku-4-5") -> dict[str, Any]:
    """One Message Batch request asking for tags of ``text``, as the pipeline writes it."""
    from tagging_assets.core.models import model_table
    from tagging_assets.core.protocol import MESSAGES
    from tagging_assets.wire import builder_for

    options = model_table().profile(model).request_options()
    request = builder_for(MESSAGES).request(custom_id, options, "Tag this transcript.", text)
    return request.model_dump(exclude_none=True)


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def submit(client: OpenAI, content: bytes, endpoint: Any = "/v1/chat/completions", **options: Any) -> Batch:
    uploaded = client.files.create(file=("input.jsonl", content), purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h", **options)


def wait_for(
    client: OpenAI, batch_id: str, statuses: tuple[str, ...] = TERMINAL_STATUSES, timeout: float = 120
) -> Batch:
    """Poll until the batch reaches one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in statuses:
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {batch.status} after {timeout} s")
        time.sleep(0.05)


def read_lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines() if line]


def one_per_lesson(transcripts: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The first ``count`` transcripts, keeping one of each PyTorch/TensorFlow twin
    (their texts are nearly the same lesson, so equal tags would be right)."""
    chosen: dict[str, dict[str, Any]] = {}
    for item in transcripts:
        chosen.setdefault(_TWIN_SUFFIX.sub("", item["title"]), item)
    return list(chosen.values())[:count]


def cache_items(transcripts: list[dict[str, Any]], count: int) -> list[Transcript]:
    """The first ``count`` real transcripts as the caching step would write them."""
    fields = ("video_id", "title", "transcript", "channel", "url", "published_at")
    return [Transcript(**{key: item[key] for key in fields if key in item}) for item in transcripts[:count]]


PROVIDERS = ("openai", "azure", "anthropic", "gemini")
"""The providers whose protocol the gateway speaks; the reliability tests run for each."""


def batch_api_for(gateway: ServedGateway, provider: str = "openai", **options: Any) -> BatchApiResource:
    """The Batch API resource for ``gateway`` in ``provider``'s protocol: OpenAI's ``/v1``, Azure's ``/openai``
    through ``AzureOpenAI``, Anthropic's Message Batches through ``Anthropic``, or Gemini's Batch API through
    google-genai's ``Client`` (each at the gateway's root)."""
    key = gateway.api_key or "sk-test"
    if provider == "openai":
        return BatchApiResource(base_url=gateway.base_url, api_key=key, **options)
    return BatchApiResource(base_url=f"http://127.0.0.1:{gateway.port}", api_key=key, provider=provider, **options)


def resources_for(gateway, cache_path, tmp_path, provider: str = "openai", **tagging):
    settings = TaggingSettings(provider=provider, work_dir=tmp_path / "work", **tagging)
    return {
        "qdrant": QdrantCacheResource(path=str(cache_path)),
        "batch_api": batch_api_for(gateway, provider),
        "tagging": TaggingResource.from_settings(settings),
    }


def run_sensor(instance: DagsterInstance, resources: dict):
    sensor_resources = {name: resources[name] for name in ("batch_api", "tagging")}
    return batch_status_sensor(build_sensor_context(instance=instance, resources=sensor_resources))


def sensor_tick(instance: DagsterInstance, api: ServedGateway | str, provider: str = "openai", **tagging):
    """One evaluation of the sensor against a gateway, in ``provider``'s protocol, or against a base URL."""
    if isinstance(api, str):
        batch_api = BatchApiResource(base_url=api, api_key="k", provider=provider)
    else:
        batch_api = batch_api_for(api, provider)
    resources = {
        "batch_api": batch_api,
        "tagging": TaggingResource.from_settings(TaggingSettings(provider=provider, **tagging)),
    }
    return batch_status_sensor(build_sensor_context(instance=instance, resources=resources))


def submit_and_process(instance, resources, gateway):
    """Run the submit job, then let the sensor drive the process job, as the daemon would."""
    project = build_definitions(resources)
    submitted = project.resolve_job_def("submit_batches").execute_in_process(instance=instance)
    batch_ids = [batch["batch_id"] for batch in submitted.output_for_node("openai_batch_job")["batches"]]
    for batch_id in batch_ids:
        gateway.wait_until(batch_id)
    result = run_sensor(instance, resources)
    assert result.run_requests
    # The sensor targets two jobs, so the daemon refuses a run request that does not name its job.
    assert all(request.job_name == "process_batch" for request in result.run_requests if request.partition_key)
    process = project.resolve_job_def("process_batch")
    runs = {
        request.partition_key: process.execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags
        )
        for request in result.run_requests
        if request.partition_key
    }
    return submitted, batch_ids, result, runs


def user_env(tmp_path: Path, gateway: ServedGateway, provider: str = "openai", **extra: str) -> dict[str, str]:
    """A user's environment: no API key, the cache, work files and Dagster home in a temporary folder; the local
    gateway answers in ``provider``'s protocol."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "QDRANT_", "TAGGING_", "AZURE_", "ANTHROPIC_", "GOOGLE_", "GEMINI_"))
    }
    return base | {
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "TAGGING_WORK_DIR": str(tmp_path / "work"),
        "TAGGING_GATEWAY_URL": gateway.base_url,
        "TAGGING_PROVIDER": provider,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **extra,
    }


def failed_submit_message(instance: DagsterInstance, resources: dict) -> str:
    """Run the submit job, expect it to fail, and return what its failing step said."""
    job = build_definitions(resources).resolve_job_def("submit_batches")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.error.message
