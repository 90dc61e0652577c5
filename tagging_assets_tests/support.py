"""Helpers for tests that drive a gateway through the openai SDK."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from openai import OpenAI
from openai.types import Batch

REPO_ROOT = Path(__file__).resolve().parent.parent
TERMINAL_STATUSES = ("completed", "failed", "expired", "cancelled")


def transcripts_path() -> Path:
    """The shared real transcripts: ``TAGGING_TRANSCRIPTS``, else ``../shared/data`` beside the checkout."""
    configured = os.environ.get("TAGGING_TRANSCRIPTS")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "transcripts.jsonl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GatewayProcess:
    """A gateway started as its own process, as a user starts it, so a test can kill it."""

    def __init__(self, state_dir: Path, settings: dict[str, Any], api_key: str | None = None) -> None:
        self.state_dir = state_dir
        self.settings = settings
        self.api_key = api_key
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> GatewayProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAGGING_GATEWAY_")}
        env.update({f"TAGGING_GATEWAY_{name.upper()}": str(value) for name, value in self.settings.items()})
        if self.api_key:
            env["TAGGING_GATEWAY_API_KEY"] = self.api_key
        command = [sys.executable, "-m", "tagging_assets", "gateway", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--state-dir", str(self.state_dir)],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=(self.state_dir.parent / f"gateway-{self.port}.log").open("ab"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError("the gateway did not come up within 60 s")

    def kill(self) -> None:
        """SIGKILL the gateway and its tagger processes: a crash, not a shutdown."""
        if self._process and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def restart_after_kill(self) -> None:
        """Crash the gateway and start it again on the same port and state."""
        self.kill()
        self.start()

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, **options: Any) -> OpenAI:
        return OpenAI(base_url=self.base_url, api_key=self.api_key or "sk-local", **options)


def request_line(custom_id: str, text: str, model: str = "gpt-4o-mini", **body: Any) -> dict[str, Any]:
    """One Batch API input line asking for tags of ``text``."""
    from tagging_assets.models import tagging_response_format

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


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def submit(client: OpenAI, content: bytes, **options: Any) -> Batch:
    uploaded = client.files.create(file=("input.jsonl", content), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", **options
    )


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
