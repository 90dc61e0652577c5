"""What the pipeline and limits benchmarks build their measurements from: synthetic caches of ~1,000-word
transcripts stitched from the real transcripts' sentences, a completed batch's output file for a request file,
the record and batch that write-back takes for it, and the store's raw scroll beneath this project's scan."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def synthetic_points(count: int) -> Iterator[Any]:
    """``count`` cache points of ~``WORDS_PER_ITEM`` words each, stitched from the real transcripts' sentences."""
    from qdrant_client import models

    pool = sentences()
    cursor = 0
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
        yield models.PointStruct(id=number, vector=vector, payload=payload)


def create_collection(client: Any) -> None:
    from qdrant_client import models

    client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=8, distance=models.Distance.COSINE))


def seed(store: Path, count: int) -> None:
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(store))
    create_collection(client)
    points = []
    for point in synthetic_points(count):
        points.append(point)
        if len(points) == 1000:
            client.upsert(COLLECTION, points=points)
            points = []
    if points:
        client.upsert(COLLECTION, points=points)
    client.close()


def write_results_file(work: Path, requests: str = "input.jsonl", output: str = "output.jsonl") -> None:
    """A completed batch's output file answering every request of a request file prepare wrote, as the API
    would."""
    from tagging_assets.core.shards import index_path_for, read_index

    reply = json.dumps({"tags": ["vector-search", "batch-inference", "data"], "summary": "A talk."})
    with (work / output).open("w") as out:
        for custom_id in read_index(index_path_for(work / requests)):
            body = {
                "choices": [{"message": {"content": reply}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1300, "completion_tokens": 40},
            }
            line = {"custom_id": custom_id, "response": {"status_code": 200, "body": body}, "error": None}
            out.write(json.dumps(line) + "\n")


def lesson_payloads(work: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The lesson's write-back, payload by payload: each output line parsed by hand into the same keys this
    project writes (tags, summary and the tagging state)."""
    with (work / "input.index.jsonl").open() as index_lines:
        index = {entry["custom_id"]: entry for entry in map(json.loads, index_lines)}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ")
    with (work / "output.jsonl").open() as lines:
        for line in lines:
            result = json.loads(line)
            entry = index[result["custom_id"]]
            body = result["response"]["body"]
            reply = json.loads(body["choices"][0]["message"]["content"])
            yield (
                entry["point_id"],
                {
                    "tags": reply["tags"],
                    "summary": reply["summary"],
                    "tagging": {
                        "status": "tagged",
                        "batch_id": "batch_bench",
                        "model": "gpt-4o-mini",
                        "prompt_version": "tags-v1",
                        "content_hash": entry["content_hash"],
                        "input_tokens": body["usage"]["prompt_tokens"],
                        "output_tokens": body["usage"]["completion_tokens"],
                        "error": None,
                        "retryable": True,
                        "attempts": entry["attempts"] + 1,
                        "truncated": entry["truncated"],
                        "submitted_at": now,
                        "updated_at": now,
                    },
                },
            )


def bench_batch(work: Path, requests: str = "input.jsonl") -> tuple[Any, Any]:
    """The record and the completed batch that write_results needs for the output file."""
    from openai.types import Batch

    from tagging_assets.batches.records import BatchRecord
    from tagging_assets.core.shards import index_path_for

    index_file = index_path_for(work / requests)
    record = BatchRecord(
        batch_id="batch_bench",
        input_file=str(work / requests),
        index_file=str(index_file),
        input_sha256="",
        submission_key="",
        input_file_id="file-bench",
        requests=sum(1 for _ in index_file.open()),
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
    return record, batch


def raw_scroll(cache: Any, page_size: int) -> Iterator[dict[str, Any]]:
    """The store's own scroll of the fields selection reads, a page of ``page_size`` at a time: the floor under
    this project's scan."""
    offset = None
    while True:
        points, offset = cache.client.scroll(
            COLLECTION, limit=page_size, offset=offset, with_payload=FIELDS, with_vectors=False
        )
        for point in points:
            yield point.payload or {}
        if offset is None:
            return


def write_back_results(cache: Any, work: Path, record: Any, batch: Any, output: Path) -> None:
    """This project's write-back step for one results file, as `tagging-assets process` runs it."""
    from tagging_assets.batches import steps
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.providers.openai_status import status_of
    from tagging_assets.core.contracts import DownloadedFiles
    from tagging_assets.core.settings import TaggingSettings

    plan = TaggingPlan.from_settings(TaggingSettings.from_env().model_copy(update={"work_dir": work}))
    status = status_of(batch)
    files = DownloadedFiles(batch_id=status.batch_id, status=status.status, output=output)
    steps.write_back(cache, plan, record=record, batch=status, files=files)
