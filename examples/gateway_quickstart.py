"""The Batch API workflow with the official openai SDK: upload, create, poll, download.

With OPENAI_BASE_URL (and OPENAI_API_KEY) set it runs against that endpoint;
otherwise it starts the local gateway on a free port and stops it at the end.

    python examples/gateway_quickstart.py
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from openai import OpenAI

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets.gateway.process import GatewayProcess
from tagging_assets.wire import tagging_response_format

TALKS = {
    "quickstart-vector-search": (
        "Vector search in practice",
        "Today I want to show how vector search works inside a retrieval system. Every document is turned into an "
        "embedding, a list of numbers that places similar meanings close together. A vector database such as Qdrant "
        "stores those embeddings and builds an HNSW index, so a query embedding finds its nearest neighbours in "
        "milliseconds instead of scanning every vector. Payload filters narrow the search to one language or one "
        "customer. The hard part is not the vector database but the chunking: chunks that are too long blur their "
        "meaning, chunks that are too short lose their context. Measure recall on real questions before you tune "
        "the HNSW index.",
    ),
    "quickstart-batch-inference": (
        "Cheap LLM jobs with batch inference",
        "Batch inference trades latency for price. You write every request into one JSONL file, upload the file, and "
        "the provider runs the requests within a completion window of a day at half the price of realtime calls. "
        "The catch is bookkeeping: every request needs a custom id, failed requests land in a separate error file, "
        "and an expired batch still bills the requests it finished. A good batch pipeline records the batch id "
        "before anything else, so a crash never submits and pays for the same batch inference job twice.",
    ),
    "quickstart-data-orchestration": (
        "Assets, not tasks: data orchestration",
        "Data orchestration used to mean scheduling tasks. Asset-based orchestration flips that around: you declare "
        "the data assets you want to exist, and the orchestrator works out what to run. Each asset has lineage, so "
        "when an upstream table changes you can see every downstream asset that is now stale. Asset checks guard "
        "the hand-offs between assets, and a sensor can start a run when an outside system, like a batch job, "
        "finishes. Partitions let one asset hold many independent slices, each with its own history.",
    ),
    "quickstart-speech-recognition": (
        "Speech recognition for podcast transcripts",
        "Automatic speech recognition has become good enough that most podcast transcripts are now machine made. "
        "Modern speech recognition models are trained on hundreds of thousands of hours of audio, and they handle "
        "accents and background noise far better than older systems. The remaining errors are names, jargon and "
        "overlapping speakers. Speaker diarization labels who said what, and a human editor still fixes the "
        "transcripts of episodes that matter. Timestamps make the transcripts searchable down to the second.",
    ),
}


def build_requests(path: Path) -> int:
    """Write one Batch API request per talk; the custom_id ties each result to its talk."""
    with path.open("w", encoding="utf-8") as requests:
        for video_id, (title, transcript) in TALKS.items():
            body = {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Give 3-5 lowercase hyphenated tags and a one-sentence summary."},
                    {"role": "user", "content": f"Title: {title}\n\n{transcript}"},
                ],
                "response_format": tagging_response_format(),
                "max_tokens": 300,
            }
            line = {"custom_id": f"youtube:{video_id}", "method": "POST", "url": "/v1/chat/completions", "body": body}
            requests.write(json.dumps(line) + "\n")
    return len(TALKS)


def run(client: OpenAI, workdir: Path) -> None:
    count = build_requests(workdir / "requests.jsonl")
    print(f"Prepared {count} requests")

    with (workdir / "requests.jsonl").open("rb") as requests:
        uploaded = client.files.create(file=requests, purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"source": "gateway-quickstart"},
    )
    print(f"Submitted batch {batch.id}")

    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        time.sleep(0.5)
        batch = client.batches.retrieve(batch.id)
        counts = batch.request_counts
        done = counts.completed + counts.failed if counts else 0
        print(f"  {batch.status}: {done}/{counts.total if counts else '?'}")
    if batch.status == "failed":
        sys.exit(f"the batch failed validation: {batch.errors}")

    output = client.files.content(batch.output_file_id).text if batch.output_file_id else ""
    print(f"\n{'custom_id':40} tags")
    for line in output.splitlines():
        result = json.loads(line)
        reply = TaggingOutput.model_validate_json(result["response"]["body"]["choices"][0]["message"]["content"])
        print(f"{result['custom_id']:40} {', '.join(reply.tags)}\n{'':40} {reply.summary}")
    if batch.usage:
        cost = batch.usage.input_tokens * 0.075 / 1e6 + batch.usage.output_tokens * 0.30 / 1e6
        print(f"\n{batch.usage.total_tokens:,} tokens; at gpt-4o-mini batch prices that would cost ${cost:.6f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as running:
        if os.environ.get("OPENAI_BASE_URL"):
            client = OpenAI()
        else:
            gateway = running.enter_context(GatewayProcess(Path(scratch) / "gateway"))
            print(f"Started the local gateway at {gateway.base_url}")
            client = OpenAI(base_url=gateway.base_url, api_key="sk-local")
        run(client, Path(scratch))


if __name__ == "__main__":
    main()
