"""Whatever the result files hold, write-back leaves every submitted point tagged or failed, once, against an
embedded (in-memory) Qdrant: replies good and bad, lines repeated, unknown or unreadable, requests missing."""

import json
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import Batch
from qdrant_client import QdrantClient, models

from tagging_assets.batches.providers.openai_status import status_of
from tagging_assets.batches.records import BatchRecord
from tagging_assets.batches.writeback import write_results
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import IndexEntry
from tagging_assets.core.models import ModelTable
from tagging_assets_tests.reading import stored_payloads_by_id

BATCH_ID = "batch_property"
KINDS = ("ok", "http_500", "http_400", "expired", "not_json", "bad_shape", "refusal", "truncated")
"""What one result line for a request may be; only ``ok`` tags the point."""
TAGS = ["vector-search", "hnsw", "recall"]


def _result(custom_id: str, kind: str) -> bytes:
    if kind == "expired":
        line: dict[str, object] = {
            "custom_id": custom_id,
            "response": None,
            "error": {"code": "batch_expired", "message": "late"},
        }
        return json.dumps(line).encode()
    content = {"ok": json.dumps({"tags": TAGS, "summary": f"About {custom_id}."}), "not_json": "{tags"}.get(
        kind, json.dumps({"tags": "Not A Tag", "summary": "s"})
    )
    message = {"content": None, "refusal": "no"} if kind == "refusal" else {"content": content}
    body: dict[str, object] = {
        "choices": [{"message": message, "finish_reason": "length" if kind == "truncated" else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    status = 200
    if kind.startswith("http_"):
        status, body = int(kind[5:]), {"error": {"message": "boom"}}
    return json.dumps({"custom_id": custom_id, "response": {"status_code": status, "body": body}}).encode()


@st.composite
def result_files(draw: st.DrawFn) -> tuple[int, list[list[bytes]], dict[str, bool]]:
    """How many requests were submitted, the lines of the output and error files, and, for each custom_id, whether
    its first readable line is a success (the line write-back must take)."""
    submitted = draw(st.integers(1, 12))
    lines: list[tuple[str | None, bytes]] = []
    for number in range(submitted):
        custom_id = f"c{number}"
        for kind in draw(st.lists(st.sampled_from(KINDS), max_size=3)):
            lines.append((custom_id, _result(custom_id, kind)))
    lines += [("stranger", _result("stranger", "ok")) for _ in range(draw(st.integers(0, 2)))]
    lines += [(None, raw.replace(b"\n", b" ")) for raw in draw(st.lists(st.binary(min_size=1, max_size=30)))]
    lines = draw(st.permutations(lines))
    split = draw(st.integers(0, len(lines)))
    output, errors = lines[:split], lines[split:]
    first: dict[str, bool] = {}
    for custom_id, raw in output + errors:
        if custom_id is not None and custom_id != "stranger":
            first.setdefault(custom_id, raw == _result(custom_id, "ok"))
    return submitted, [[raw for _, raw in output], [raw for _, raw in errors]], first


@settings(max_examples=60, deadline=None)
@given(result_files(), st.sampled_from(["completed", "expired", "cancelled", "failed"]))
def test_every_submitted_custom_id_ends_tagged_or_failed_once(
    drawn: tuple[int, list[list[bytes]], dict[str, bool]], status: str
) -> None:
    submitted, files, first = drawn
    index = {
        f"c{n}": IndexEntry(f"c{n}", n + 1, f"hash{n}", attempts=n % 2, truncated=False, input_tokens=10)
        for n in range(submitted)
    }
    record = BatchRecord(
        BATCH_ID, "in.jsonl", "in.index.jsonl", "sha", "key", "file", submitted, "gpt-4o-mini", "v1", "sub", 1
    )
    batch = Batch(
        id=BATCH_ID,
        object="batch",
        endpoint="/v1/chat/completions",
        completion_window="24h",
        created_at=1,
        input_file_id="file",
        status=status,
    )
    with TemporaryDirectory() as folder, QdrantCache("property", client=QdrantClient(":memory:")) as cache:
        cache.create(1)
        cache.upsert([models.PointStruct(id=n + 1, vector=[1.0], payload={"video_id": f"v{n}"}) for n in range(30)])
        paths = []
        for name, lines in zip(("output", "errors"), files, strict=True):
            path = Path(folder) / f"{name}.jsonl"
            path.write_bytes(b"".join(line + b"\n" for line in lines))
            paths.append(path)
        profile = ModelTable().profile("gpt-4o-mini")
        summary = write_results(cache, record, status_of(batch), index, paths, profile)
        points = stored_payloads_by_id(cache, list(range(1, 31)), ["tags", "summary", "tagging"])

    assert summary.tagged + summary.failed == submitted
    tagged = set()
    for custom_id, entry in index.items():
        state = points[entry.point_id]["tagging"]
        assert state["batch_id"] == BATCH_ID and state["attempts"] == entry.attempts + 1
        assert state["status"] in ("tagged", "failed")
        if state["status"] == "tagged":
            tagged.add(custom_id)
            assert points[entry.point_id]["tags"] == TAGS
            assert points[entry.point_id]["summary"] == f"About {custom_id}."
        else:
            assert state["error"] and "tags" not in points[entry.point_id]
    assert tagged == {custom_id for custom_id, ok in first.items() if ok}
    assert summary.tagged == len(tagged)
    assert summary.unknown_custom_ids == sum(line == _result("stranger", "ok") for part in files for line in part)
    assert all("tagging" not in points[n] for n in range(submitted + 1, 31)), "a point not submitted was written"
