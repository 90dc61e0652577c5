"""How many requests a second the local gateway answers on this machine.

Batch throughput is timed from batch creation to ``completed`` with the offline
key-phrase tagger, and again with the trivial echo tagger to show the server's
own overhead (upload, validation, bookkeeping, output files). Realtime chat
completions are timed one after another from one client. The requests are real
transcripts from ../shared/data/transcripts.jsonl, cycled to reach the count.

    python benchmarks/gateway_throughput.py [--requests 2000] [--no-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from openai import OpenAI

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme import write_section

from tagging_assets.gateway.process import GatewayProcess
from tagging_assets.wire import tagging_response_format

TRANSCRIPTS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "transcripts.jsonl"


def load_transcripts() -> list[dict[str, str]]:
    path = Path(os.environ.get("TAGGING_TRANSCRIPTS", TRANSCRIPTS))
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def request_body(item: dict[str, str]) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Give 3-5 lowercase hyphenated tags and a one-sentence summary."},
            {"role": "user", "content": f"Title: {item['title']}\n\n{item['transcript']}"},
        ],
        "response_format": tagging_response_format(),
    }


def time_batch(tagger: str, items: list[dict[str, str]], count: int, workdir: Path) -> tuple[float, int]:
    """Seconds from batch creation to completed, and the input file's size."""
    path = workdir / f"{tagger}.jsonl"
    with path.open("w", encoding="utf-8") as requests:
        for number in range(count):
            line = {
                "custom_id": f"bench:{number}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": request_body(items[number % len(items)]),
            }
            requests.write(json.dumps(line) + "\n")
    with GatewayProcess(workdir / f"state-{tagger}", {"tagger": tagger}) as gateway:
        client = OpenAI(base_url=gateway.base_url, api_key="sk-local")
        with path.open("rb") as requests:
            uploaded = client.files.create(file=requests, purpose="batch")
        started = time.perf_counter()
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        while batch.status not in ("completed", "failed", "expired", "cancelled"):
            time.sleep(0.05)
            batch = client.batches.retrieve(batch.id)
        elapsed = time.perf_counter() - started
        if batch.status != "completed" or batch.request_counts.completed != count:
            raise SystemExit(f"the {tagger} batch ended {batch.status} with {batch.request_counts}")
    return elapsed, path.stat().st_size


def time_realtime(items: list[dict[str, str]], count: int, workdir: Path) -> float:
    with GatewayProcess(workdir / "state-realtime") as gateway:
        client = OpenAI(base_url=gateway.base_url, api_key="sk-local")
        started = time.perf_counter()
        for number in range(count):
            client.chat.completions.create(**request_body(items[number % len(items)]))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per batch")
    parser.add_argument("--realtime", type=int, default=200, help="realtime requests, one after another")
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    items = load_transcripts()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        for tagger in ("keywords", "echo"):
            seconds, size = time_batch(tagger, items, args.requests, workdir)
            label = "offline key-phrase tagger" if tagger == "keywords" else "echo tagger (server overhead)"
            rows.append(
                f"| batch, {label} | {args.requests:,} ({size / 1e6:.1f} MB) | {seconds:.1f} s "
                f"| {args.requests / seconds:,.0f} |"
            )
        seconds = time_realtime(items, args.realtime, workdir)
        rows.append(
            f"| realtime chat completions, one client, key-phrase tagger | {args.realtime:,} | {seconds:.1f} s "
            f"| {args.realtime / seconds:,.0f} |"
        )
    table = "\n".join(
        [
            f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}), real transcripts of 316-5,969 words.",
            "",
            "| gateway workload | requests | wall time | requests/s |",
            "| --- | ---: | ---: | ---: |",
            *rows,
        ]
    )
    print(table)
    if not args.no_readme:
        write_section("gateway", table)


if __name__ == "__main__":
    main()
