"""The gateway is an extra: without it the command line says in one line what to install, and the commands that
talk to a real API never import the server stack. Each case runs in a fresh interpreter whose import system
cannot find the extra's modules, as after a plain ``pip install tagging-assets``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tagging_assets.gateway.extra import INSTALL, SERVER_MODULES
from tagging_assets.gateway.process import free_port

pytestmark = pytest.mark.subprocess

WITHOUT_THE_EXTRA = f"""
import sys
for name in {SERVER_MODULES!r}:
    sys.modules[name] = None
from tagging_assets.cli.commands import main
main(sys.argv[1:])
"""
NOTHING_OF_THE_SERVER = f"""
import sys
from tagging_assets.cli.commands import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(name for name in {SERVER_MODULES!r} if name in sys.modules)
print("loaded:", loaded)
"""


def run(script: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "QDRANT_", "TAGGING_", "AZURE_", "ANTHROPIC_"))
    }
    env |= {
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "TAGGING_WORK_DIR": str(tmp_path / "work"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "TAGGING_GATEWAY_URL": f"http://127.0.0.1:{free_port()}/v1",
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("command", [["gateway"], ["demo"]])
def test_without_the_extra_the_gateway_and_the_demo_say_in_one_line_what_to_install(tmp_path, command):
    done = run(WITHOUT_THE_EXTRA, tmp_path, *command)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert error.endswith(INSTALL), error


@pytest.mark.parametrize("command", [["--help"], ["status", "--help"], ["gateway", "--help"]])
def test_help_loads_nothing_of_the_server(tmp_path, command):
    done = run(NOTHING_OF_THE_SERVER, tmp_path, *command)
    assert done.stdout.splitlines()[-1] == "loaded: []", done.stderr
