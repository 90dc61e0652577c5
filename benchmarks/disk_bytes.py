"""Bytes the Dagster pipeline writes per byte of request files, from the selection to the shards.

``cached_transcripts`` and ``batch_input_jsonl`` are materialised on synthetic transcripts in embedded Qdrant
(the same ones ``pipeline.py`` measures), and every file they leave in the work directory is counted against
the request files. The target is at most 1.1: the request files are the only copy of the transcripts. Beside it
stands what the snapshot of the selected transcripts that the selection used to write took.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import orjson
from dagster import instance_for_test, materialize
from readme import write_section
from synthetic import COLLECTION, seed

from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import SelectionReport
from tagging_assets.core.prompt import PROMPT_VERSION
from tagging_assets.core.selection import select_items
from tagging_assets.core.tokens import TokenCounter
from tagging_assets.defs.assets import batch_input_jsonl, cached_transcripts
from tagging_assets.defs.resources import BatchApiResource, QdrantCacheResource, TaggingResource

TARGET = 1.1
NOWHERE = "http://127.0.0.1:9/v1"
"""No API is asked anything but what it announces of the model, which nothing answering here leaves unsaid."""


def measure(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, instance_for_test() as instance:
        store, work = Path(scratch) / "qdrant", Path(scratch) / "work"
        seed(store, count)
        resources = {
            "qdrant": QdrantCacheResource(collection=COLLECTION, path=str(store)),
            "batch_api": BatchApiResource(base_url=NOWHERE, api_key="k"),
            "tagging": TaggingResource(work_dir=str(work)),
        }
        result = materialize([cached_transcripts, batch_input_jsonl], resources=resources, instance=instance)
        shards = result.output_for_node("batch_input_jsonl").shards
        requests = sum(shard.path.stat().st_size for shard in shards)
        written = sum(path.stat().st_size for path in work.rglob("*") if path.is_file())
        with QdrantCache.connect(COLLECTION, path=store) as cache:
            options = {"model": "gpt-4o-mini", "prompt_version": PROMPT_VERSION, "max_attempts": 3}
            items = select_items(cache, SelectionReport(), counter=TokenCounter(), **options)
            snapshot = sum(len(orjson.dumps(item)) + 1 for item in items)
    return {"items": count, "requests": requests, "written": written, "snapshot": snapshot}


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "Measured by `make bench`: `cached_transcripts` and `batch_input_jsonl` materialised on synthetic "
        "transcripts in embedded Qdrant, every file they leave in the work directory counted against the "
        "request files.",
        "",
        "| transcripts | request files | all files written | per request byte | with a snapshot of the "
        "transcripts, as before | target |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        before = (row["written"] + row["snapshot"]) / row["requests"]
        lines.append(
            f"| {row['items']:,} | {row['requests'] / 1e6:.1f} MB | {row['written'] / 1e6:.1f} MB "
            f"| {row['written'] / row['requests']:.3f} | {before:.2f} | at most {TARGET} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing docs/performance.md")
    args = parser.parse_args()
    rows = [measure(int(size)) for size in args.sizes.split(",")]
    for row in rows:
        ratio = row["written"] / row["requests"]
        print(f"{row['items']:>7,} transcripts: {ratio:.3f} bytes written per request byte (target {TARGET})")
    markdown = table(rows)
    print(markdown)
    if not args.no_readme:
        write_section("disk", markdown)


if __name__ == "__main__":
    main()
