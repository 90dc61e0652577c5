"""Write-back's cost of a flex job that OpenAI served partly at ``default``: each line billed at its tier, against an
embedded (in-memory) Qdrant."""

import json
from pathlib import Path

import pytest
from openai.types import Batch
from qdrant_client import QdrantClient, models

from tagging_assets.batches.providers.openai_status import status_of
from tagging_assets.batches.records import BatchRecord
from tagging_assets.batches.writeback import write_results
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import IndexEntry
from tagging_assets.core.models import ModelTable

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})
TIERS = ("flex", "flex", "default")


def _line(custom_id: str, tier: str) -> bytes:
    body = {
        "choices": [{"message": {"content": REPLY}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 100_000},
        "service_tier": tier,
    }
    return json.dumps({"custom_id": custom_id, "response": {"status_code": 200, "body": body}}).encode()


@pytest.mark.parametrize("mode", ["flex", "batch"])
def test_a_flex_job_is_billed_at_the_tier_each_line_was_served_at(tmp_path: Path, mode: str) -> None:
    index = {f"c{n}": IndexEntry(f"c{n}", n + 1, f"hash{n}", 0, False, 1_000_000) for n in range(len(TIERS))}
    record = BatchRecord("job", "in.jsonl", "in.index.jsonl", "sha", "key", "file", 3, "gpt-5.4-mini", "v1", "s", 1)
    job = Batch(
        id="job",
        object="batch",
        endpoint="/v1/chat/completions",
        completion_window="24h",
        created_at=1,
        input_file_id="file",
        status="completed",
    )
    output = tmp_path / "output.jsonl"
    output.write_bytes(b"".join(_line(custom_id, tier) + b"\n" for custom_id, tier in zip(index, TIERS, strict=True)))
    profile = ModelTable().profile("gpt-5.4-mini")
    with QdrantCache("flex", client=QdrantClient(":memory:")) as cache:
        cache.create(1)
        cache.upsert([models.PointStruct(id=n + 1, vector=[1.0], payload={"video_id": f"v{n}"}) for n in range(3)])
        summary = write_results(cache, record, status_of(job), index, [output], profile, mode=mode)

    flex_line, default_line = 0.375 + 0.1 * 2.25, 0.75 + 0.1 * 4.50
    assert summary.tagged == 3 and summary.input_tokens == 3_000_000
    assert summary.cost_mode == mode
    assert summary.cost_billed_usd == pytest.approx(2 * flex_line + default_line), "the lines' tiers, not the mode"
    assert summary.cost_flex_usd == pytest.approx(3 * flex_line) and summary.cost_batch_usd == pytest.approx(
        3 * flex_line
    )
    assert summary.cost_realtime_usd == pytest.approx(3 * default_line)
    assert summary.cost is not None and summary.cost.billed_usd == summary.cost_billed_usd
    assert summary.saving_usd == pytest.approx(2 * (default_line - flex_line))
