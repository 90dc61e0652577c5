"""prepare and process at 1k, 10k and 50k transcripts, against a naive baseline and the store's own floor,
(the sensor's tick has its own benchmark, ``sensor_tick.py``).

Each cache holds synthetic transcripts of about 1,000 words, stitched from sentences of the real transcripts
in ../shared/data/transcripts.jsonl, in an embedded Qdrant store. Every measurement runs in a fresh process,
so its peak RSS is its own:

- floor scroll: the store's raw scroll of the fields prepare needs, at the best of several page sizes,
  and the same with Python's cyclic garbage collector paused, as prepare runs (the stricter floor);
- naive prepare: the lesson's way, every point scrolled into a list 256 a page, then written out;
- prepare: this project's selection + sharded JSONL (BatchProcessor.prepare_files), writing to disk,
  and again writing to memory (/dev/shm) to show its cost without the disk's;
- least work: what any prepare must add to the scroll, and no more: each transcript hashed and
  JSON-escaped in a tight loop; then the same again with the bytes written to disk, 2 MB at a time;
- floor write: raw batch_update_points of SetPayloadOperations, 512 a call;
- naive process: one set_payload per point;
- process: this project's write-back of a results file (the write-back step).

Every measurement runs --repeats times, the ops taking turns; each figure is the median. The three writes
each run on a fresh copy of the store, and the tables give their CPU time beside the wall time.

    python benchmarks/pipeline.py [--sizes 1000,10000,50000] [--repeats 3] [--no-readme]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme import write_section
from synthetic import (
    COLLECTION,
    WORDS_PER_ITEM,
    bench_batch,
    lesson_payloads,
    raw_scroll,
    seed,
    write_back_results,
    write_results_file,
)

SCROLL_PAGE_SIZES = (1024, 4096, 16384)
MEMORY_DIR = Path("/dev/shm")
LEAST_WORK_CHUNK = 2 * 1024 * 1024


def run_op(op: str, store: Path, work: Path, *options: str) -> dict[str, float]:
    """One measurement in its own process; its wall time (after opening the store), CPU time and peak RSS.
    The disk first writes out what earlier measurements left in memory, so no op pays for another's output."""
    os.sync()
    result = subprocess.run(
        [sys.executable, __file__, "--op", op, "--store", str(store), "--work", str(work), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{op} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def op_in_process(op: str, store: Path, work: Path, page_size: int, paused: bool) -> None:
    from qdrant_client import models

    from tagging_assets.batches.processor import BatchProcessor
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.models import model_table
    from tagging_assets.core.prompt import SYSTEM_PROMPT, user_message
    from tagging_assets.wire import ChatCompletions

    opening = time.perf_counter()
    cache = QdrantCache.connect(COLLECTION, path=store)
    extra: dict[str, float] = {"open_seconds": time.perf_counter() - opening}
    if paused:
        gc.disable()
    started, cpu = time.perf_counter(), time.process_time()
    if op == "floor_scroll":
        sum(1 for _ in raw_scroll(cache, page_size))
    elif op == "naive_prepare":
        points, offset = [], None
        while True:
            page, offset = cache.client.scroll(COLLECTION, limit=256, offset=offset, with_payload=True)
            points.extend(page)
            if offset is None:
                break
        with (work / "naive.jsonl").open("w") as out:
            for point in points:
                payload = point.payload or {}
                user = user_message(payload["title"], payload["transcript"])
                options = model_table().profile("gpt-4o-mini").request_options()
                request = ChatCompletions().request(f"youtube:{payload['video_id']}", options, SYSTEM_PROMPT, user)
                out.write(request.model_dump_json(exclude_none=True) + "\n")
    elif op == "prepare":
        BatchProcessor(cache, None, work_dir=work).prepare_files(work / "input.jsonl")
    elif op == "least_work":
        import orjson
        import xxhash

        transcripts = [payload["transcript"] for payload in raw_scroll(cache, page_size)]
        started = time.perf_counter()
        for transcript in transcripts:
            xxhash.xxh3_128_hexdigest(transcript.encode())
            orjson.dumps(transcript)
        extra["encode_seconds"] = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        with (work / "least.jsonl").open("wb", buffering=LEAST_WORK_CHUNK) as out:
            for transcript in transcripts:
                xxhash.xxh3_128_hexdigest(transcript.encode())
                out.write(orjson.dumps(transcript))
    elif op == "floor_write":
        updates = list(lesson_payloads(work))
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(updates), 512):
            operations = [
                models.SetPayloadOperation(set_payload=models.SetPayload(payload=payload, points=[point_id]))
                for point_id, payload in updates[start : start + 512]
            ]
            cache.client.batch_update_points(COLLECTION, update_operations=operations)
    elif op == "naive_process":
        started, cpu = time.perf_counter(), time.process_time()
        for point_id, payload in lesson_payloads(work):
            cache.client.set_payload(COLLECTION, payload=payload, points=[point_id])
    elif op == "process":
        record, batch = bench_batch(work)
        started, cpu = time.perf_counter(), time.process_time()
        write_back_results(cache, work, record, batch, work / "output.jsonl")
    elif op != "open":
        raise SystemExit(f"unknown op {op}")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    cache.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_mb": rss_mb} | extra))


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]} | {"runs": len(runs)}


def measure_size(size: int, scratch: Path, repeats: int) -> dict[str, Any]:
    """Every measurement ``repeats`` times, the ops taking turns so that a slow spell of the machine
    falls on all of them alike; each figure is the median."""
    store, work = scratch / f"store-{size}", scratch / f"work-{size}"
    work.mkdir()
    print(f"seeding {size:,} transcripts...", file=sys.stderr)
    seed(store, size)
    runs: dict[str, list[dict[str, float]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(dir=MEMORY_DIR if MEMORY_DIR.is_dir() else None) as in_memory:
        for _ in range(repeats):
            runs["open"].append(run_op("open", store, work))
            for page in SCROLL_PAGE_SIZES:
                runs[f"floor_scroll {page}"].append(run_op("floor_scroll", store, work, "--page-size", str(page)))
                paused = run_op("floor_scroll", store, work, "--page-size", str(page), "--paused")
                runs[f"floor_scroll_paused {page}"].append(paused)
            for folder in (work, Path(in_memory)):
                for old_output in folder.glob("*.jsonl"):
                    old_output.unlink()
            runs["naive_prepare"].append(run_op("naive_prepare", store, work))
            runs["prepare"].append(run_op("prepare", store, work))
            runs["prepare_in_memory"].append(run_op("prepare", store, Path(in_memory)))
            runs["least_work"].append(run_op("least_work", store, work, "--page-size", "16384", "--paused"))
        write_results_file(work)
        for _ in range(repeats):
            for op in ("floor_write", "naive_process", "process"):
                copy = scratch / "store-copy"
                shutil.copytree(store, copy)
                runs[op].append(run_op(op, copy, work))
                shutil.rmtree(copy)
    shutil.rmtree(store)
    figures = {op: median_of(op_runs) for op, op_runs in runs.items()}
    for floor in ("floor_scroll", "floor_scroll_paused"):
        best = min(SCROLL_PAGE_SIZES, key=lambda page: figures[f"{floor} {page}"]["seconds"])
        figures[floor] = figures[f"{floor} {best}"] | {"page_size": best}
    print(f"{size:,}: {json.dumps(figures)}", file=sys.stderr)
    return figures


def table(rows: list[tuple[int, dict[str, Any]]]) -> str:
    repeats = rows[0][1]["prepare"]["runs"]
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}): synthetic transcripts of ~{WORDS_PER_ITEM:,} words from real sentences, "
        f"embedded Qdrant. Each figure is the median of {repeats} runs, each in a fresh process, the ops taking "
        "turns; times exclude opening the store.",
        "",
        "| transcripts | prepare | prepare, output in memory | naive prepare | raw scroll floor (page) | "
        "raw scroll, collector paused (page) | prepare RSS over the open store |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, figures in rows:
        floor, paused = figures["floor_scroll"], figures["floor_scroll_paused"]
        lines.append(
            f"| {size:,} | {figures['prepare']['seconds']:.2f} s "
            f"| {figures['prepare_in_memory']['seconds']:.2f} s "
            f"| {figures['naive_prepare']['seconds']:.2f} s "
            f"| {floor['seconds']:.2f} s ({floor['page_size']:,}) "
            f"| {paused['seconds']:.2f} s ({paused['page_size']:,}) "
            f"| {max(figures['prepare']['rss_mb'] - figures['open']['rss_mb'], 0):.0f} MB |"
        )
    lines += [
        "",
        "| transcripts | process | naive process | raw batched-write floor |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for size, figures in rows:
        cells = [
            f"{figures[op]['seconds']:.2f} s ({figures[op]['cpu_seconds']:.2f} s CPU)"
            for op in ("process", "naive_process", "floor_write")
        ]
        lines.append(f"| {size:,} | {' | '.join(cells)} |")
    first, last = rows[0], rows[-1]
    store_growth = last[1]["open"]["rss_mb"] - first[1]["open"]["rss_mb"]
    prepare_growth = last[1]["prepare"]["rss_mb"] - first[1]["prepare"]["rss_mb"]
    lines += ["", "Against the targets, for 10,000 transcripts and more:", ""]
    for size, figures in rows:
        if size < 10_000:
            continue
        prepare, in_memory = figures["prepare"]["seconds"], figures["prepare_in_memory"]["seconds"]
        floor, paused = figures["floor_scroll"]["seconds"], figures["floor_scroll_paused"]["seconds"]
        process, naive = figures["process"]["seconds"], figures["naive_process"]["seconds"]
        least = figures["least_work"]
        lines.append(
            f"- {size:,}: prepare {figures['naive_prepare']['seconds'] / prepare:.1f}x faster than naive, "
            f"{100 * (prepare / floor - 1):+.0f}% over the raw scroll floor ({100 * (in_memory / floor - 1):+.0f}% "
            f"writing to memory; {100 * (prepare / paused - 1):+.0f}% over the scroll with the collector paused); "
            f"process {100 * (process / naive - 1):+.0f}% against naive and "
            f"{100 * (process / figures['floor_write']['seconds'] - 1):+.0f}% against the write floor. "
            f"25% of the raw scroll floor is {0.25 * floor:.3f} s, while the least any prepare adds to the scroll, "
            f"hashing and JSON-escaping every transcript, takes {least['encode_seconds']:.3f} s, and writing those "
            f"bytes {least['seconds'] - least['encode_seconds']:.3f} s more."
        )
    lines += [
        "",
        f"From {first[0]:,} to {last[0]:,} transcripts the store's own RSS grows {store_growth:.0f} MB and "
        f"prepare's {prepare_growth:.0f} MB.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--page-size", type=int, default=4096, help=argparse.SUPPRESS)
    parser.add_argument("--paused", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.op:
        op_in_process(args.op, args.store, args.work, args.page_size, args.paused)
        return
    with tempfile.TemporaryDirectory() as scratch:
        rows = [(size, measure_size(int(size), Path(scratch), args.repeats)) for size in args.sizes.split(",")]
    markdown = table([(int(size), figures) for size, figures in rows])
    print(markdown)
    if not args.no_readme:
        write_section("pipeline", markdown)


if __name__ == "__main__":
    main()
