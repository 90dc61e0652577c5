"""Running a gateway as a child process: what the demo, the benchmarks and the
tests use when no batch backend is configured."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from tagging_assets.gateway.settings import ENV_PREFIX

STARTUP_TIMEOUT_SECONDS = 60


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class GatewayProcess:
    """A local gateway in its own process group, started as a user starts it.

    ``settings`` are gateway settings and faults by field name (they reach the
    child as ``TAGGING_GATEWAY_*``). Use it as a context manager, or call
    ``start`` and ``stop``; ``kill`` is a crash (SIGKILL), not a shutdown.
    """

    def __init__(
        self,
        state_dir: Path,
        settings: dict[str, Any] | None = None,
        api_key: str | None = None,
        port: int | None = None,
        log: IO[bytes] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.settings = settings or {}
        self.api_key = api_key
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        env.update({f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in self.settings.items()})
        if self.api_key:
            env[f"{ENV_PREFIX}API_KEY"] = self.api_key
        command = [sys.executable, "-m", "tagging_assets", "gateway", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--state-dir", str(self.state_dir)],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited with code {self._process.returncode} while starting")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the gateway did not answer on port {self.port} within {STARTUP_TIMEOUT_SECONDS} s")

    @property
    def pid(self) -> int | None:
        """The gateway's process id, which is also its process group's."""
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """SIGKILL the gateway and its tagger processes."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def restart_after_kill(self) -> None:
        """Crash the gateway and start it again on the same port and state."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """Shut the gateway down cleanly, or kill it if it does not stop in time."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
