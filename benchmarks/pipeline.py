"""prepare and process at 1k, 10k and 50k transcripts, against a naive baseline and the store's own floor,
and one sensor tick with 100 batches in flight.

Each cache holds synthetic transcripts of about 1,000 words, stitched from sentences of the real transcripts
in ../shared/data/transcripts.jsonl, in an embedded Qdrant store. Every measurement runs in a fresh process,
so its peak RSS is its own:

- floor scroll: the store's raw scroll of the fields prepare needs, 4,096 points a page;
- naive prepare: the lesson's way, every point scrolled into a list 256 a page, then written out;
- prepare: this project's selection + sharded JSONL (BatchProcessor.prepare_files);
- floor write: raw batch_update_points of SetPayloadOperations, 512 a call;
- naive process: one set_payload per point;
- process: this project's write-back of a results file (BatchProcessor.write_results).

    python benchmarks/pipeline.py [--sizes 1000,10000,50000] [--no-readme]
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme import write_section

TRANSCRIPTS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "transcripts.jsonl"
COLLECTION = "bench"
FIELDS = ["video_id", "title", "transcript", "tagging"]
WORDS_PER_ITEM = 1000


def sentences() -> list[str]:
    path = Path(os.environ.get("TAGGING_TRANSCRIPTS", TRANSCRIPTS))
    found = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            found.extend(part.strip() + "." for part in json.loads(line)["transcript"].split(". ") if part.strip())
    return found


def seed(store: Path, count: int) -> None:
    from qdrant_client import QdrantClient, models

    pool = sentences()
    client = QdrantClient(path=str(store))
    client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=8, distance=models.Distance.COSINE))
    cursor = 0
    points = []
    for number in range(count):
        words: list[str] = []
        while len(words) < WORDS_PER_ITEM:
            words.extend(pool[cursor % len(pool)].split())
            cursor += 7
        payload = {
            "type": "youtube_video",
            "video_id": f"v{number}",
            "title": f"Talk {number}",
            "transcript": " ".join(words),
        }
        vector = [((number >> bit) & 1) + 0.1 for bit in range(8)]
        points.append(models.PointStruct(id=number, vector=vector, payload=payload))
        if len(points) == 1000:
            client.upsert(COLLECTION, points=points)
            points = []
    if points:
        client.upsert(COLLECTION, points=points)
    client.close()


def run_op(op: str, store: Path, work: Path) -> dict[str, float]:
    """One measurement in its own process; its wall time (after opening the store) and peak RSS."""
    result = subprocess.run(
        [sys.executable, __file__, "--op", op, "--store", str(store), "--work", str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{op} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def op_in_process(op: str, store: Path, work: Path) -> None:
    from qdrant_client import models

    from tagging_assets.cache import QdrantCache
    from tagging_assets.processor import BatchProcessor, BatchRecord
    from tagging_assets.requests import build_request, index_path_for, read_index

    cache = QdrantCache.connect(COLLECTION, path=store)
    started = time.perf_counter()
    if op == "floor_scroll":
        sum(1 for _ in cache.scroll(FIELDS, page_size=4096))
    elif op == "naive_prepare":
        points, offset = [], None
        while True:
            page, offset = cache.client.scroll(COLLECTION, limit=256, offset=offset, with_payload=True)
            points.extend(page)
            if offset is None:
                break
        from tagging_assets.requests import CacheItem

        with (work / "naive.jsonl").open("w") as out:
            for point in points:
                payload = point.payload or {}
                item = CacheItem(point.id, payload["video_id"], payload["title"], payload["transcript"], "", 0, "new")
                out.write(build_request(item, "gpt-4o-mini").model_dump_json() + "\n")
    elif op == "prepare":
        BatchProcessor(cache, None, work_dir=work).prepare_files(work / "input.jsonl")
    elif op == "floor_write":
        ids = [point_id for point_id, _ in cache.scroll([], page_size=4096)]
        started = time.perf_counter()
        for start in range(0, len(ids), 512):
            operations = [
                models.SetPayloadOperation(set_payload=models.SetPayload(payload={"tags": ["a", "b", "c"]}, points=[i]))
                for i in ids[start : start + 512]
            ]
            cache.client.batch_update_points(COLLECTION, update_operations=operations)
    elif op == "naive_process":
        ids = [point_id for point_id, _ in cache.scroll([], page_size=4096)]
        started = time.perf_counter()
        for point_id in ids:
            cache.client.set_payload(COLLECTION, payload={"tags": ["a", "b", "c"]}, points=[point_id])
    elif op == "process":
        from openai.types import Batch

        index = read_index(index_path_for(work / "input.jsonl"))
        output = work / "output.jsonl"
        reply = json.dumps({"tags": ["vector-search", "batch-inference", "data"], "summary": "A talk."})
        with output.open("w") as out:
            for custom_id in index:
                body = {
                    "choices": [{"message": {"content": reply}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1300, "completion_tokens": 40},
                }
                out.write(
                    json.dumps({"custom_id": custom_id, "response": {"status_code": 200, "body": body}, "error": None})
                    + "\n"
                )
        record = BatchRecord(
            batch_id="batch_bench",
            input_file=str(work / "input.jsonl"),
            index_file=str(index_path_for(work / "input.jsonl")),
            input_sha256="",
            submission_key="",
            input_file_id="file-bench",
            requests=len(index),
            model="gpt-4o-mini",
            prompt_version="tags-v1",
            submission_id="bench",
            created_at=int(time.time()),
        )
        batch = Batch.model_validate(
            {
                "id": "batch_bench",
                "object": "batch",
                "endpoint": "/v1/chat/completions",
                "input_file_id": "file",
                "completion_window": "24h",
                "status": "completed",
                "created_at": int(time.time()),
                "completed_at": int(time.time()),
            }
        )
        started = time.perf_counter()
        BatchProcessor(cache, None, work_dir=work).write_results(record, batch, output, None)
    elif op != "open":
        raise SystemExit(f"unknown op {op}")
    seconds = time.perf_counter() - started
    cache.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb}))


def sensor_tick_with_batches(count: int) -> dict[str, Any]:
    """One sensor evaluation with ``count`` batches in flight: its time and the API calls it made."""
    from dagster import build_sensor_context, instance_for_test
    from openai import OpenAI

    from tagging_assets.gateway.process import GatewayProcess
    from tagging_assets.resources import BatchApiResource, TaggingResource
    from tagging_assets.sensors import batch_status_sensor

    with (
        tempfile.TemporaryDirectory() as scratch,
        GatewayProcess(Path(scratch) / "gw", {"validating_stall_seconds": 3600}) as gateway,
        instance_for_test() as instance,
    ):
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
        instance.add_dynamic_partitions("openai_batches", ids)

        def served() -> dict[str, int]:
            with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/stats") as response:
                return json.load(response)["requests"]

        before = served()
        resources = {
            "batch_api": BatchApiResource(base_url=gateway.base_url, api_key="k"),
            "tagging": TaggingResource(),
        }
        started = time.perf_counter()
        batch_status_sensor(build_sensor_context(instance=instance, resources=resources))
        seconds = time.perf_counter() - started
        calls = {k: v - before.get(k, 0) for k, v in served().items() if v != before.get(k, 0)}
    return {"seconds": seconds, "calls": calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.op:
        op_in_process(args.op, args.store, args.work)
        return
    rows = []
    opened: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(text) for text in args.sizes.split(",")):
            store, work = Path(scratch) / f"store-{size}", Path(scratch) / f"work-{size}"
            work.mkdir()
            print(f"seeding {size:,} transcripts...", file=sys.stderr)
            seed(store, size)
            figures = {
                op: run_op(op, store, work)
                for op in (
                    "open",
                    "floor_scroll",
                    "naive_prepare",
                    "prepare",
                    "floor_write",
                    "naive_process",
                    "process",
                )
            }
            opened[size] = figures["open"]["rss_mb"]
            rows.append((size, figures))
            print(f"{size:,}: {json.dumps(figures)}", file=sys.stderr)
    tick = sensor_tick_with_batches(100)
    first = rows[0][1]
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}): synthetic transcripts of ~{WORDS_PER_ITEM:,} words from real sentences, "
        "embedded Qdrant, each figure a fresh process. Times exclude opening the store.",
        "",
        "| transcripts | prepare | naive prepare | raw scroll floor | prepare RSS over the open store | "
        "process | naive process | raw batched-write floor |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, figures in rows:
        lines.append(
            f"| {size:,} | {figures['prepare']['seconds']:.2f} s | {figures['naive_prepare']['seconds']:.2f} s "
            f"| {figures['floor_scroll']['seconds']:.2f} s "
            f"| {max(figures['prepare']['rss_mb'] - figures['open']['rss_mb'], 0):.0f} MB "
            f"| {figures['process']['seconds']:.2f} s | {figures['naive_process']['seconds']:.2f} s "
            f"| {figures['floor_write']['seconds']:.2f} s |"
        )
    last = rows[-1][1]
    store_growth = last["open"]["rss_mb"] - first["open"]["rss_mb"]
    prepare_growth = last["prepare"]["rss_mb"] - first["prepare"]["rss_mb"]
    lines += [
        "",
        f"From {rows[0][0]:,} to {rows[-1][0]:,} transcripts the store's own RSS grows {store_growth:.0f} MB and "
        f"prepare's {prepare_growth:.0f} MB. A sensor tick with 100 batches in flight took {tick['seconds']:.2f} s "
        f"and made these API calls: {', '.join(f'{k} x{v}' for k, v in tick['calls'].items())}.",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        write_section("pipeline", table)


if __name__ == "__main__":
    main()
