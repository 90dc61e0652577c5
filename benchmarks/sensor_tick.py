"""One sensor tick with 10, 100 and 1,000 batches in flight at an API 200 ms away: its time and its API calls.

The batches are made on a gateway without latency, which then restarts on the same state with every API
request held for ``--latency`` seconds (``--latency-seconds``), as an API far away would hold it. The tick must
stay well inside Dagster's 60-second sensor limit; the target is 30 s at 1,000 batches.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from dagster import build_sensor_context, instance_for_test
from openai import OpenAI
from readme import write_section

from tagging_assets.defs.resources import BatchApiResource, TaggingResource
from tagging_assets.defs.sensors import batch_status_sensor
from tagging_assets.gateway.process import GatewayProcess

TARGET_SECONDS = 30.0
LIMIT_SECONDS = 60.0
STALLED = {"validating_stall_seconds": 7 * 86_400}
"""Every batch stays in flight, so each tick reads all of them."""


def make_batches(state: Path, count: int) -> tuple[int, list[str]]:
    with GatewayProcess(state, STALLED) as gateway:
        client = OpenAI(base_url=gateway.base_url, api_key="k")
        line = {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
        }
        uploaded = client.files.create(file=("in.jsonl", (json.dumps(line) + "\n").encode()), purpose="batch")
        ids = [
            client.batches.create(
                input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
            ).id
            for _ in range(count)
        ]
        return gateway.port, ids


def tick(count: int, latency: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, instance_for_test() as instance:
        state = Path(scratch) / "gateway"
        port, ids = make_batches(state, count)
        instance.add_dynamic_partitions("openai_batches", ids)
        with GatewayProcess(state, {**STALLED, "latency_seconds": latency}, port=port) as gateway:
            resources = {
                "batch_api": BatchApiResource(base_url=gateway.base_url, api_key="k"),
                "tagging": TaggingResource(),
            }
            started = time.perf_counter()
            result = batch_status_sensor(build_sensor_context(instance=instance, resources=resources))
            seconds = time.perf_counter() - started
            with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/stats") as response:
                calls = json.load(response)["requests"]
    observed = len(result.asset_events)
    assert observed == count, f"the tick read {observed} of {count} batches"
    return {"batches": count, "seconds": seconds, "calls": sum(calls.values()), "routes": calls}


def table(rows: list[dict[str, Any]], latency: float) -> str:
    lines = [
        f"Measured by `make bench`: one tick of the sensor, every batch in flight, the gateway holding each API "
        f"request {latency * 1000:.0f} ms. A retrieve per batch, as the sensor made before, takes at least the "
        "batch count times the latency.",
        "",
        "| batches in flight | tick | API calls | a retrieve per batch (at least) | target |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['batches']:,} | {row['seconds']:.2f} s | {row['calls']:,} | {row['batches'] * latency:.0f} s "
            f"| under {TARGET_SECONDS:.0f} s (limit {LIMIT_SECONDS:.0f} s) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="10,100,1000")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    rows = [tick(int(count), args.latency) for count in args.counts.split(",")]
    for row in rows:
        verdict = "within" if row["seconds"] < TARGET_SECONDS else "OVER"
        print(f"{row['batches']:>5} batches: {row['seconds']:6.2f} s, {row['calls']} calls ({verdict} the 30 s target)")
    markdown = table(rows, args.latency)
    print(markdown)
    if not args.no_readme:
        write_section("sensor", markdown)


if __name__ == "__main__":
    main()
