"""Where the embedded default stops serving: 100k and 200k transcripts in embedded Qdrant, with the time and
peak RSS of opening the store, prepare and process, and from them the memory per 100k points and the hours of
write-back per million. Then a projection, labelled as one, of the write-back against a Qdrant server.

The stores are built straight into the embedded store's SQLite file, one transaction for all the points: the
rows are those ``upsert`` writes, but ``upsert`` commits each point on its own (about 70 a second at 100k here),
which would take longer than every measurement together. Each measurement runs in a fresh process
(``pipeline.py --op``), so its peak RSS is its own.

The projection: the same write-back against an in-memory store (no disk, so what is left is the pipeline's own
work and the store's bookkeeping in Python), plus ``SERVER_SECONDS_PER_REQUEST`` for each request of 512
points that a server would answer. It is not a measurement: no server is reachable here.

    python benchmarks/limits.py [--sizes 100000,200000] [--no-readme]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import run_op
from readme import write_section
from synthetic import (
    COLLECTION,
    WORDS_PER_ITEM,
    bench_batch,
    create_collection,
    synthetic_points,
    write_back_results,
)
from synthetic import write_results_file as write_output_file

SERVER_SECONDS_PER_REQUEST = 0.05
"""The assumption behind the projection: 50 ms for a server to take one ``batch_update_points`` of 512 payload
updates and answer, network included (a server near the pipeline, as the deploy notes advise)."""
WRITES_PER_REQUEST = 512
LOCAL_MODE_WARNING_POINTS = 20_000
"""qdrant-client warns past this many points that local mode is not meant for the collection."""


def build_store(store: Path, count: int) -> None:
    """The embedded store ``upsert`` would leave, written in one transaction."""
    from qdrant_client import QdrantClient
    from qdrant_client.local.persistence import CollectionPersistence

    client = QdrantClient(path=str(store))
    create_collection(client)
    client.close()
    persistence = CollectionPersistence(str(store / "collection" / COLLECTION))
    points = synthetic_points(count)
    with persistence.storage:
        while chunk := list(itertools.islice(points, 10_000)):
            persistence.storage.executemany(
                "INSERT OR REPLACE INTO points VALUES (?, ?)",
                ((persistence.encode_key(point.id), pickle.dumps(point)) for point in chunk),
            )
    persistence.close()


def request_files(work: Path) -> list[str]:
    """The request files prepare wrote: ``input.jsonl``, ``input.part2.jsonl`` and so on (a file holds at most
    50,000 requests and 200 MB)."""
    return sorted(path.name for path in work.glob("input*.jsonl") if not path.name.endswith(".index.jsonl"))


def write_back(cache: Any, work: Path) -> dict[str, float]:
    """Every request file's results written back, one completed batch after another, timed alone."""
    outputs = []
    for number, requests in enumerate(request_files(work), start=1):
        write_output_file(work, requests, f"results-{number}.jsonl")
        outputs.append((requests, work / f"results-{number}.jsonl"))
    started, cpu = time.perf_counter(), time.process_time()
    for requests, output in outputs:
        record, batch = bench_batch(work, requests)
        write_back_results(cache, work, record, batch, output)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu, "rss_mb": rss_mb, "files": len(outputs)}


def process_on_disk(store: Path, work: Path) -> dict[str, float]:
    from tagging_assets.core.cache import QdrantCache

    with QdrantCache.connect(COLLECTION, path=store) as cache:
        return write_back(cache, work)


def process_in_memory(count: int, work: Path) -> dict[str, float]:
    """The same write-back against an in-memory store of ``count`` points, prepared in the same process."""
    from qdrant_client import QdrantClient

    from tagging_assets.batches.processor import BatchProcessor
    from tagging_assets.core.cache import QdrantCache

    client = QdrantClient(":memory:")
    create_collection(client)
    points = synthetic_points(count)
    while chunk := list(itertools.islice(points, 1000)):
        client.upsert(COLLECTION, points=chunk, wait=True)
    cache = QdrantCache(COLLECTION, client=client, embedded=True)
    BatchProcessor(cache, None, work_dir=work).prepare_files(work / "input.jsonl")
    return write_back(cache, work)


def in_own_process(*options: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, *options], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(options)} failed:\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def measure(count: int, scratch: Path) -> dict[str, Any]:
    store, work = scratch / f"store-{count}", scratch / f"work-{count}"
    work.mkdir()
    print(f"building a store of {count:,} transcripts...", file=sys.stderr)
    started = time.perf_counter()
    build_store(store, count)
    figures: dict[str, Any] = {"build_seconds": time.perf_counter() - started}
    figures["store_mb"] = sum(path.stat().st_size for path in store.rglob("*") if path.is_file()) / 1e6
    for op in ("open", "prepare"):
        print(f"  {op}...", file=sys.stderr)
        figures[op] = run_op(op, store, work)
    print("  process...", file=sys.stderr)
    figures["process"] = in_own_process("--process-store", str(store), "--work", str(work))
    print("  process against an in-memory store...", file=sys.stderr)
    memory_work = scratch / f"memory-{count}"
    memory_work.mkdir()
    figures["in_memory_process"] = in_own_process("--in-memory", str(count), "--work", str(memory_work))
    print(f"{count:,}: {json.dumps(figures)}", file=sys.stderr)
    return figures


def table(rows: list[tuple[int, dict[str, Any]]]) -> str:
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}): synthetic transcripts of ~{WORDS_PER_ITEM:,} words from real sentences, "
        "embedded Qdrant on disk, each step in a fresh process. Peak RSS is the whole process's, the open store "
        "included.",
        "",
        "| transcripts | store on disk | open the store | RSS, store open | prepare | prepare peak RSS "
        "| process (write-back) | process peak RSS | write-back rate |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, figures in rows:
        opened, prepare, process = figures["open"], figures["prepare"], figures["process"]
        lines.append(
            f"| {count:,} | {figures['store_mb']:,.0f} MB | {opened['open_seconds']:.1f} s "
            f"| {opened['rss_mb']:,.0f} MB | {prepare['seconds']:.1f} s | {prepare['rss_mb']:,.0f} MB "
            f"| {process['seconds']:.0f} s ({process['cpu_seconds']:.0f} s CPU) | {process['rss_mb']:,.0f} MB "
            f"| {count / process['seconds']:,.0f} points/s |"
        )
    (small, low), (large, high) = rows[0], rows[-1]
    per_100k = (high["open"]["rss_mb"] - low["open"]["rss_mb"]) / (large - small) * 100_000
    open_per_100k = (high["open"]["open_seconds"] - low["open"]["open_seconds"]) / (large - small) * 100_000
    rate = large / high["process"]["seconds"]
    memory = high["in_memory_process"]
    client_per_point = memory["seconds"] / large
    server_per_million = 1e6 * client_per_point + 1e6 / WRITES_PER_REQUEST * SERVER_SECONDS_PER_REQUEST
    lines += [
        "",
        f"- **Past {LOCAL_MODE_WARNING_POINTS:,} points** qdrant-client itself warns that local mode is not "
        "meant for the collection.",
        f"- **Memory:** the open store holds every point in the process: {per_100k:,.0f} MB more RSS per 100k "
        f"points (from {small:,} to {large:,}), and {open_per_100k:.0f} s more to open it. A million points "
        f"would need about {per_100k * 10 / 1000:.0f} GB and {open_per_100k * 10:.0f} s to open in every run "
        "that opens the cache (the selection, the request files, the write-back), one run at a time.",
        f"- **Write-back:** {rate:,.0f} points a second at {large:,}: the store commits every point on its own "
        f"({100 * (1 - high['process']['cpu_seconds'] / high['process']['seconds']):.0f}% of the time waiting on "
        f"the disk), so a million take about {1e6 / rate / 3600:.2f} hours "
        f"({1e6 / rate / 60:.0f} minutes) of process runs, at this rate (it fell from "
        f"{small / low['process']['seconds']:,.0f} a second at {small:,}).",
        f"- **Projection for a Qdrant server, not a measurement:** the same write-back against an in-memory store "
        f"takes {memory['seconds']:.0f} s for {large:,} ({1e6 * client_per_point:.0f} µs a point: the "
        "pipeline's own work, and the store's bookkeeping in Python, which a server does not add to this "
        f"process). Adding {SERVER_SECONDS_PER_REQUEST * 1000:.0f} ms for each request of {WRITES_PER_REQUEST} "
        f"points a server answers, a million would take about {server_per_million / 60:.0f} minutes, and "
        "the pipeline would hold no point in memory.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,200000")
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    parser.add_argument("--in-memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--process-store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_memory:
        print(json.dumps(process_in_memory(args.in_memory, args.work)))
        return
    if args.process_store:
        print(json.dumps(process_on_disk(args.process_store, args.work)))
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as scratch:
        rows = [(count, measure(count, Path(scratch))) for count in sizes]
    markdown = table(rows)
    print(markdown)
    if not args.no_readme:
        write_section("limits", markdown)


if __name__ == "__main__":
    main()
