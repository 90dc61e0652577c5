"""How long the command line takes to answer, as a user starts it: ``tagging-assets --help``, every
subcommand's ``--help``, and ``status`` against a running gateway in OpenAI's, Anthropic's and Gemini's
protocols.
Each figure is the median of ``--repeats`` fresh processes, beside its target.

    python benchmarks/cli_speed.py [--repeats 5] [--no-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from anthropic import Anthropic
from google import genai
from google.genai import types
from openai import OpenAI
from readme import write_section

from tagging_assets.gateway.process import GatewayProcess

HELP_TARGET_SECONDS = 0.5
STATUS_TARGET_SECONDS = 1.0
COMMANDS = ("demo", "gateway", "prepare", "process", "search", "seed-cache", "status", "submit", "tags")
CLI = Path(sys.executable).with_name("tagging-assets")
SDKS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google.genai"}
"""The package of each provider's SDK, as ``python -X importtime`` names its modules."""


def median_seconds(command: list[str], env: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def verdict(seconds: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"under {target:.1f} s" + ("" if seconds < target else " (**missed**)")


def openai_batch(gateway: GatewayProcess) -> str:
    client = OpenAI(base_url=gateway.base_url, api_key="sk-local")
    line = {
        "custom_id": "a",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Vector search."}]},
    }
    uploaded = client.files.create(file=("in.jsonl", (json.dumps(line) + "\n").encode()), purpose="batch")
    return client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id


def message_batch(gateway: GatewayProcess) -> str:
    client = Anthropic(base_url=f"http://127.0.0.1:{gateway.port}", api_key="sk-local")
    params = {
        "model": "claude-haiku-4-5",
        "max_tokens": 400,
        "messages": [{"role": "user", "content": "Vector search."}],
    }
    return client.messages.batches.create(requests=[{"custom_id": "a", "params": params}]).id  # type: ignore[list-item]


def gemini_batch(gateway: GatewayProcess) -> str:
    client = genai.Client(
        api_key="sk-local", http_options=types.HttpOptions(base_url=f"http://127.0.0.1:{gateway.port}")
    )
    request = types.InlinedRequest(contents="Vector search.")
    return str(client.batches.create(model="gemini-2.5-flash-lite", src=[request]).name)


def sdk_modules_loaded(batch_id: str, env: dict[str, str]) -> dict[str, int]:
    """How many modules of each provider's SDK ``status`` loads, as ``python -X importtime`` lists them."""
    command = [sys.executable, "-X", "importtime", "-m", "tagging_assets", "status", "--batch-id", batch_id]
    loaded = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr.splitlines()
    modules = [line.rsplit("|", 1)[-1].strip() for line in loaded]
    return {
        package: sum(1 for module in modules if module == package or module.startswith(f"{package}."))
        for package in SDKS.values()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "TAGGING_", "ANTHROPIC_", "AZURE_", "GEMINI_", "GOOGLE_"))
    }
    cli = str(CLI)
    rows: list[tuple[str, float, float | None]] = [
        ("`tagging-assets --help`", median_seconds([cli, "--help"], base, args.repeats), HELP_TARGET_SECONDS)
    ]
    helps = {command: median_seconds([cli, command, "--help"], base, args.repeats) for command in COMMANDS}
    slowest = max(helps, key=lambda command: helps[command])
    rows.append((f"the slowest subcommand's `--help` (`{slowest}`)", helps[slowest], HELP_TARGET_SECONDS))
    others: list[str] = []
    with tempfile.TemporaryDirectory() as scratch, GatewayProcess(Path(scratch) / "gateway") as gateway:
        for provider, make in (("openai", openai_batch), ("anthropic", message_batch), ("gemini", gemini_batch)):
            env = base | {
                "TAGGING_PROVIDER": provider,
                "TAGGING_GATEWAY_URL": gateway.base_url,
                "TAGGING_WORK_DIR": str(Path(scratch) / provider),
            }
            batch_id = make(gateway)
            seconds = median_seconds([cli, "status", "--batch-id", batch_id], env, args.repeats)
            loaded = sdk_modules_loaded(batch_id, env)
            counts = ", ".join(f"{count} `{sdk}`" for sdk, count in loaded.items() if sdk != SDKS[provider])
            others.append(f"{counts} modules on {provider}'s protocol")
            rows.append((f"`status` against the gateway, {provider}'s protocol", seconds, STATUS_TARGET_SECONDS))
            sdk = median_seconds([sys.executable, "-c", f"import {SDKS[provider]}"], base, args.repeats)
            rows.append((f"of it, Python starting and importing the `{SDKS[provider]}` SDK alone", sdk, None))
    table = "\n".join(
        [
            f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}): each figure the median of {args.repeats} fresh processes, as a user "
            "starts them.",
            "",
            "| command | time | target |",
            "| --- | ---: | ---: |",
            *(f"| {name} | {seconds:.2f} s | {verdict(seconds, target)} |" for name, seconds, target in rows),
            "",
            f"What `status` loads of the other providers' SDKs (`python -X importtime`): {'; '.join(others)}.",
        ]
    )
    print(table)
    if not args.no_readme:
        write_section("cli", table)


if __name__ == "__main__":
    main()
