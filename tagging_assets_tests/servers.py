"""Servers the tests start for themselves from the machine's own packages: PostgreSQL and `dagster dev`."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tagging_assets.gateway.process import free_port


def require_tool(path: str | None, what: str, install: str) -> str:
    """The tool's path; without it the test is skipped, except in CI, where .ci/run installs it."""
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: .ci/run should have installed {install}")
    pytest.skip(f"{what} is not installed (Debian: apt-get install {install})")


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of Debian's postgresql package on a free loopback port, with an empty
    database ``dagster``; yields its URL and removes everything at the end."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    bin_dir = Path(require_tool(binaries[-1] if binaries else None, "PostgreSQL", "postgresql"))
    folder = Path(tempfile.mkdtemp(prefix="tagging-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*command: str | Path) -> None:
        subprocess.run([*as_user, *map(str, command)], check=True, capture_output=True, timeout=120)

    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "server.log", "-w", "start")
        try:
            run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "dagster")
            yield f"postgresql://postgres@127.0.0.1:{port}/dagster"
        finally:
            run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def dagster_dev(env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """`dagster dev` on a free loopback port; yields the web server's URL once it answers GraphQL."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            ["dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise AssertionError(f"dagster dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if graphql(url, "{ version }").get("version"):
                    break
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"dagster dev did not answer in 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def graphql(url: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    if body.get("errors"):
        raise AssertionError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def chromium() -> str:
    return require_tool(shutil.which("chromium"), "Chromium", "chromium")
