"""Realtime jobs against a gateway 200 ms away: how close the executor's pacing comes to the rate limit's bound,
and whether its memory stays flat as a job grows.

A gateway process (``--rpm 3000 --latency 0.2``, the offline key-phrase tagger) answers 1,000 chat completions
for gpt-4o-mini, written by the project's own ``write_requests`` from synthetic ~1,000-word transcripts and run as a
realtime job through ``jobs_of`` (``Jobs.submit`` then ``Jobs.run``) with an ``openai.OpenAI`` client. 1,000
requests at 3,000 a minute cannot finish in less than 20 s. Case A sets the project's limit at the gateway's (no
429 should be provoked, within 10% of 20 s); case B sets it at twice the gateway's (the gateway refuses what it
cannot take and the executor obeys its 429s, within 25%). Each job runs in a fresh process, so the gateway's CPU
is not counted against the client's, and each case gets a fresh gateway, so its counts are the case's own (its
tagger processes started by a few calls on another key first, as an API far away has none to start).

Memory: the same job at 1,000 and at 10,000 requests against a gateway with no rate limit, no latency and the
echo tagger (so the client, not the gateway, sets the pace), each in a fresh process reporting its peak RSS.

    python benchmarks/realtime.py [--requests 1000] [--memory-sizes 1000,10000] [--no-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme import write_section
from synthetic import COLLECTION, WORDS_PER_ITEM, synthetic_points

GATEWAY_RPM = 3000
LATENCY_SECONDS = 0.2
MAX_CONCURRENCY = 32
"""50 requests a second, each held 200 ms, keep 10 in flight; at case B's 100 a second, 20. 32 leaves room for the
answers that come back late on a busy machine, so the pool never holds back a send the limit allows."""
WARM_UP_CALLS = 4 * (os.cpu_count() or 1)
"""Enough calls at once that every tagger process the gateway starts (one a core) gets one."""
MODEL = "gpt-4o-mini"
TARGETS = {"A": 0.10, "B": 0.25}
"""How far over the limit's bound each case may finish."""
MEMORY_TARGET = 0.10


def synthetic_items(count: int) -> Iterator[Any]:
    """The synthetic transcripts as the selection hands them on: new items, never tagged."""
    from tagging_assets.core.selection import CacheItem, content_hash

    for point in synthetic_points(count):
        payload = point.payload
        title, transcript = payload["title"], payload["transcript"]
        yield CacheItem(
            point_id=point.id,
            video_id=payload["video_id"],
            title=title,
            transcript=transcript,
            content_hash=content_hash(title, transcript),
            attempts=0,
            reason="new",
        )


def settings_for(work: Path, *, requests_per_minute: int | None) -> Any:
    from tagging_assets.core.settings import TaggingSettings

    return TaggingSettings(
        work_dir=work,
        model=MODEL,
        mode="realtime",
        max_requests_per_minute=requests_per_minute,
        max_concurrency=MAX_CONCURRENCY,
    )


def write_request_file(work: Path, count: int) -> Path:
    """``count`` request lines in one file, as ``prepare`` writes them."""
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.steps import write_requests

    plan = TaggingPlan.from_settings(settings_for(work, requests_per_minute=None))
    [shard] = write_requests(synthetic_items(count), work / "input.jsonl", plan=plan)
    return shard.path


def run_job(work: Path, base_url: str, requests_per_minute: int | None) -> dict[str, Any]:
    """Submit the work directory's request file as a realtime job and run it, as ``tag --mode realtime`` does;
    only ``run`` is timed."""
    from openai import OpenAI

    from tagging_assets.batches.jobs import jobs_of
    from tagging_assets.batches.providers import SubmitOptions
    from tagging_assets.batches.records import RecordStore
    from tagging_assets.core.shards import load_shard

    settings = settings_for(work, requests_per_minute=requests_per_minute)
    jobs = jobs_of(OpenAI(base_url=base_url, api_key="sk-local"), settings)
    options = SubmitOptions(collection=COLLECTION, backend="api", file_ttl_seconds=settings.file_ttl_seconds)
    shard = load_shard(work / "input.jsonl")
    record = jobs.submit(shard, mode="realtime", records=RecordStore(work), options=options)
    started, cpu = time.perf_counter(), time.process_time()
    report = jobs.run(record)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if report is None or report.unanswered or report.failed:
        raise SystemExit(f"the job did not answer every request: {report}")
    return {
        "requests": report.requests,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rate_limited": report.rate_limited,
        "retries": report.retries,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_own_process(work: Path, base_url: str, requests_per_minute: int | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run-job", str(work), "--base-url", base_url]
    if requests_per_minute is not None:
        command += ["--project-rpm", str(requests_per_minute)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the job in {work} failed:\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def warm_up(base_url: str, work: Path) -> None:
    """Start the gateway's tagger processes before the clock runs: it spawns them at its first realtime calls,
    which then take over a second, and an API far away has no such start. The calls go with another key, so the
    job's rate limit starts full, and they name no request, so they are not among the job's arrivals."""
    from openai import OpenAI

    from tagging_assets.wire.realtime import realtime_call

    client = OpenAI(base_url=base_url, api_key="sk-warm-up")
    with (work / "input.jsonl").open("rb") as lines:
        body = realtime_call(lines.readline()).body
    with ThreadPoolExecutor(WARM_UP_CALLS) as pool:
        list(pool.map(lambda _: client.chat.completions.create(**body), range(WARM_UP_CALLS)))


def realtime_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/realtime") as response:
        stats: dict[str, Any] = json.load(response)
    return stats


def measure(scratch: Path, name: str, count: int, gateway_settings: dict[str, Any], project_rpm: int | None) -> Any:
    """One job of ``count`` requests in a fresh work directory, against a fresh gateway: the job's figures and
    what the gateway saw."""
    from tagging_assets.gateway.process import GatewayProcess

    work = scratch / f"work-{name}"
    work.mkdir()
    write_request_file(work, count)
    with GatewayProcess(scratch / f"gateway-{name}", gateway_settings) as gateway:
        warm_up(gateway.base_url, work)
        before = realtime_stats(gateway.port)
        figures = in_own_process(work, gateway.base_url, project_rpm)
        stats = realtime_stats(gateway.port)
    figures["arrived"] = stats["total"] - before["total"]
    figures["arrived_twice"] = sum(1 for times in stats["received"].values() if times > 1)
    figures["too_many_requests"] = sum(stats["429_by_reason"].values()) - sum(before["429_by_reason"].values())
    print(f"{name}: {json.dumps(figures)}", file=sys.stderr)
    return figures


def table(requests: int, cases: dict[str, dict[str, Any]], memory: list[dict[str, Any]], load: float) -> str:
    per_second = GATEWAY_RPM / 60
    bound = requests / per_second
    burst = int(per_second)
    burst_floor = (requests - burst) / per_second + LATENCY_SECONDS
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}): a realtime job of {MODEL} chat completions (synthetic transcripts of "
        f"~{WORDS_PER_ITEM:,} words) run by `Jobs.run` through the `openai` SDK, {MAX_CONCURRENCY} calls in "
        f"flight at most, in its own process; the gateway, in another, holds every request "
        f"{LATENCY_SECONDS * 1000:.0f} ms and allows {GATEWAY_RPM:,} a minute. {requests:,} requests at "
        f"{GATEWAY_RPM:,} a minute take {bound:.0f} s, the bound the targets are measured from (a client that "
        f"bursts can finish in {burst_floor:.1f} s: the gateway's bucket starts with one second's worth, "
        f"{burst:,}, and each answer comes {LATENCY_SECONDS * 1000:.0f} ms after its request). The machine's load "
        f"average was {load:.1f} when the timed jobs started.",
        "",
        "| project's limit | wall time | over the bound | target | 429s sent (obeyed) | requests arriving twice "
        "| client CPU per request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    labels = {"A": "at the gateway's", "B": "twice the gateway's"}
    for name, figures in cases.items():
        over = figures["seconds"] / bound - 1
        target = TARGETS[name]
        refused = figures["too_many_requests"]
        no_429_asked = name == "A"
        met = abs(over) <= target and not (no_429_asked and refused)
        goal = f"{'no 429, ' if no_429_asked else ''}within {target:.0%}: {'met' if met else '**missed**'}"
        lines.append(
            f"| {figures['project_rpm']:,} rpm ({labels[name]}) | {figures['seconds']:.1f} s | {over:+.1%} "
            f"| {goal} | {refused:,} ({figures['rate_limited']:,}) | {figures['arrived_twice']:,} "
            f"| {1000 * figures['cpu_seconds'] / figures['requests']:.1f} ms |"
        )
    small, large = memory[0], memory[-1]
    growth = large["rss_mb"] / small["rss_mb"] - 1
    lines += [
        "",
        "| requests in the job | wall time | client CPU | peak RSS |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {row['requests']:,} | {row['seconds']:.1f} s | {row['cpu_seconds']:.1f} s | {row['rss_mb']:,.0f} MB |"
            for row in memory
        ),
        "",
        f"Peak RSS from {small['requests']:,} to {large['requests']:,} requests: {growth:+.1%} (target: at most "
        f"{MEMORY_TARGET:.0%}, {'met' if abs(growth) <= MEMORY_TARGET else '**missed**'}). Those two jobs ran "
        "against a gateway with no rate limit, no latency and the echo tagger, and with no limit in the project, "
        "so the client sets the pace.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests in each timed job")
    parser.add_argument("--memory-sizes", default="1000,10000", help="the job sizes whose peak RSS is compared")
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    parser.add_argument("--run-job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--project-rpm", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_job:
        print(json.dumps(run_job(args.run_job, args.base_url, args.project_rpm)))
        return
    limited = {"requests_per_minute": GATEWAY_RPM, "latency_seconds": LATENCY_SECONDS}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        cases = {}
        for name, project_rpm in (("A", GATEWAY_RPM), ("B", 2 * GATEWAY_RPM)):
            cases[name] = measure(Path(scratch), name, args.requests, limited, project_rpm)
            cases[name]["project_rpm"] = project_rpm
        sizes = sorted(int(size) for size in args.memory_sizes.split(","))
        memory = [measure(Path(scratch), f"memory-{size}", size, {"tagger": "echo"}, None) for size in sizes]
    markdown = table(args.requests, cases, memory, load)
    print(markdown)
    if not args.no_readme:
        write_section("realtime", markdown)


if __name__ == "__main__":
    main()
