"""Write-back makes a reply's tags canonical with the aliases of TAGGING_TAG_ALIASES, keeps the raw tags in the
item's state, flags an item left with fewer than three tags, and the checks read the cache as write-back wrote it;
against an embedded (in-memory) Qdrant."""

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from openai.types import Batch
from qdrant_client import QdrantClient, models

from tagging_assets.batches import steps
from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.batches.providers.openai_status import status_of
from tagging_assets.batches.records import BatchRecord
from tagging_assets.core.audit import disagreements, format_problems
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import DownloadedFiles, IndexEntry
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets_tests.reading import stored_payloads_by_id

BATCH_ID = "batch_canonical"
REPLIES = {
    "c0": ["LLMs", "Large Language Models", "K8s", "gpu", "GPUs", "Video"],
    "c1": ["Vector_Databases", "HNSW", "Recall", "Podcast", "vector databases", "ANN", "quantization", "rust"],
    "c2": ["AI", "Kubernetes", "podcast", "kubernetes"],
}
ALIASES = "# variants of one idea\nLLMs: large-language-models\nk8s: Kubernetes\nann: approximate-nearest-neighbours\n"


def _line(custom_id: str, tags: list[str]) -> bytes:
    content = json.dumps({"tags": tags, "summary": f"About {custom_id}."})
    body = {"choices": [{"message": {"content": content}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 5}}
    return json.dumps({"custom_id": custom_id, "response": {"status_code": 200, "body": body}}).encode()


@pytest.fixture
def cache() -> Iterator[QdrantCache]:
    with QdrantCache("canonical", client=QdrantClient(":memory:")) as cache:
        cache.create(1)
        cache.upsert([models.PointStruct(id=n + 1, vector=[1.0], payload={"video_id": f"v{n}"}) for n in range(3)])
        yield cache


def _written(cache: QdrantCache, tmp_path: Path, environ: dict[str, str]):
    index = {f"c{n}": IndexEntry(f"c{n}", n + 1, f"hash{n}", 0, False, 5) for n in range(3)}
    index_file = tmp_path / "in.index.jsonl"
    index_file.write_text("".join(json.dumps(asdict(entry)) + "\n" for entry in index.values()))
    output = tmp_path / "output.jsonl"
    output.write_bytes(b"".join(_line(custom_id, tags) + b"\n" for custom_id, tags in REPLIES.items()))
    record = BatchRecord(BATCH_ID, "in.jsonl", str(index_file), "sha", "key", "file", 3, "gpt-4o-mini", "v1", "s", 1)
    batch = Batch(
        id=BATCH_ID,
        object="batch",
        endpoint="/v1/chat/completions",
        completion_window="24h",
        created_at=1,
        input_file_id="file",
        status="completed",
    )
    plan = TaggingPlan.from_settings(TaggingSettings.from_env(environ), backend="api")
    files = DownloadedFiles(batch_id=BATCH_ID, status="completed", output=output)
    summary = steps.write_back(cache, plan, record=record, batch=status_of(batch), files=files)
    return summary, index, output, plan


def test_the_aliases_file_names_the_tags_written_and_the_raw_tags_are_kept(cache, tmp_path):
    aliases_file = tmp_path / "aliases.txt"
    aliases_file.write_text(ALIASES)
    summary, index, output, plan = _written(cache, tmp_path, {"TAGGING_TAG_ALIASES": str(aliases_file)})
    points = stored_payloads_by_id(cache, [1, 2, 3], ["tags", "summary", "tagging"])

    assert points[1]["tags"] == ["large-language-models", "kubernetes", "gpu"]
    assert points[2]["tags"] == ["vector-databases", "hnsw", "recall", "approximate-nearest-neighbours", "quantization"]
    assert points[3]["tags"] == ["kubernetes"]
    for n, raw in enumerate(REPLIES.values(), start=1):
        assert points[n]["tagging"]["raw_tags"] == raw, "the reply's own tags, for replaying other rules unpaid"
        assert points[n]["tagging"]["status"] == "tagged" and points[n]["tagging"]["error"] is None
    assert points[1]["tagging"]["dropped_tags"] == ["Video"]
    assert points[3]["tagging"]["dropped_tags"] == ["AI", "podcast"]
    assert [points[n]["tagging"]["few_tags"] for n in (1, 2, 3)] == [False, False, True]
    assert (summary.tagged, summary.failed, summary.few_tags, summary.dropped_tags) == (3, 0, 1, 4)
    assert summary.tags_written["kubernetes"] == 2 and "k8s" not in summary.tags_written

    report = format_problems(cache, BATCH_ID)
    assert (report.tagged, report.problems, report.few_tags) == (3, [], ["v2"]), "few_tags reported, not failed"
    assert disagreements(cache, BATCH_ID, index, output, None, aliases=plan.aliases) == []
    assert disagreements(cache, BATCH_ID, index, output, None), "without the aliases, the results read otherwise"


def test_without_aliases_the_tags_are_still_canonical(cache, tmp_path):
    summary, *_ = _written(cache, tmp_path, {})
    points = stored_payloads_by_id(cache, [1, 2, 3], ["tags"])
    assert points[1]["tags"] == ["llms", "large-language-models", "k8s", "gpu"]
    assert points[2]["tags"] == ["vector-databases", "hnsw", "recall", "ann", "quantization"]
    assert summary.few_tags == 1


def test_a_malformed_aliases_file_is_a_config_error_naming_its_line(cache, tmp_path):
    aliases_file = tmp_path / "aliases.txt"
    aliases_file.write_text("llms: large-language-models\njust-a-tag\n")
    with pytest.raises(ConfigError, match="line 2"):
        _written(cache, tmp_path, {"TAGGING_TAG_ALIASES": str(aliases_file)})
    points = stored_payloads_by_id(cache, [1, 2, 3], ["tagging"])
    assert len(points) == 3 and all("tagging" not in point for point in points.values()), "nothing written"


def test_under_a_closed_vocabulary_a_tag_outside_it_is_dropped_and_recorded(cache, tmp_path):
    vocabulary = tmp_path / "vocabulary.txt"
    vocabulary.write_text("gpu\nkubernetes\nvector-databases\nrecall\nrust\n")
    environ = {"TAGGING_VOCABULARY": "closed", "TAGGING_VOCABULARY_FILE": str(vocabulary)}
    summary, *_ = _written(cache, tmp_path, environ)
    points = stored_payloads_by_id(cache, [1, 2, 3], ["tags", "tagging"])
    assert points[1]["tags"] == ["gpu"] and points[1]["tagging"]["few_tags"]
    assert "LLMs" in points[1]["tagging"]["dropped_tags"], "outside the vocabulary: dropped, and recorded"
    assert points[2]["tags"] == ["vector-databases", "recall", "rust"]
    assert {"HNSW", "ANN", "quantization"} <= set(points[2]["tagging"]["dropped_tags"])
    assert summary.dropped_tags > 0
