"""Selecting what needs tags, and writing requests within the API's limits."""

import json

from qdrant_client import models

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import BatchRequest
from tagging_assets.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT
from tagging_assets.core.shards import (
    SelectionReport,
    content_hash,
    prompt_version_for,
    read_index,
    select_items,
    why_tag,
    write_shards,
)
from tagging_assets.seed.seeding import point_id_for, seed_cache

HASH = content_hash("title", "text")


def _state(**changes):
    return {
        "status": "tagged",
        "content_hash": HASH,
        "prompt_version": PROMPT_VERSION,
        "model": "gpt-4o-mini",
        "attempts": 1,
        **changes,
    }


def test_why_tag_covers_every_reason():
    def decide(tagging):
        return why_tag(tagging, HASH, "gpt-4o-mini", PROMPT_VERSION, 3)[:2]

    assert decide(None) == (True, "new")
    assert decide(_state()) == (False, "up-to-date")
    assert decide(_state(content_hash="old")) == (True, "content-changed")
    assert decide(_state(prompt_version="tags-v0")) == (True, "prompt-changed")
    assert decide(_state(model="gpt-4o")) == (True, "model-changed")
    assert decide(_state(status="pending")) == (False, "pending")
    assert decide(_state(status="failed", attempts=2)) == (True, "retry")
    assert decide(_state(status="failed", attempts=3)) == (False, "given-up")
    assert decide(_state(status="failed", attempts=1, retryable=False)) == (False, "given-up")


def test_a_custom_prompt_gets_its_own_version():
    assert prompt_version_for(SYSTEM_PROMPT) == PROMPT_VERSION
    assert prompt_version_for("Tag this.") != prompt_version_for("Tag that.")


def test_selection_skips_bad_points_each_with_its_reason(cache_path, real_transcripts):
    good = [
        {"video_id": item["video_id"], "title": item["title"], "transcript": item["transcript"]}
        for item in real_transcripts[:5]
    ]
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, good)
        bad = {
            "no-transcript": {"video_id": "v-missing", "title": "t"},
            "number": {"video_id": "v-number", "title": "t", "transcript": "x"},
            "blank": {"video_id": "v-blank", "title": "t", "transcript": "   \n"},
            "dup": {"video_id": good[0]["video_id"], "title": "again", "transcript": "another copy"},
        }
        seed_cache(cache, [bad["no-transcript"], bad["number"], bad["blank"]])
        cache.set_payloads([(point_id_for("v-number"), {"transcript": 42})])
        cache.upsert([models.PointStruct(id=999, vector=[1.0] + [0.0] * 255, payload=bad["dup"])])
        cache.upsert(
            [models.PointStruct(id=998, vector=[1.0] + [0.0] * 255, payload={"title": "no id", "transcript": "x"})]
        )
        report = SelectionReport()
        items = list(select_items(cache, report, "gpt-4o-mini"))
    assert len(items) == 5
    assert report.scanned == 10
    assert report.selected == {"new": 5}
    assert report.skipped == {
        "missing-transcript": 1,
        "transcript-not-text": 1,
        "empty-transcript": 1,
        "duplicate-video-id": 1,
        "missing-video-id": 1,
    }


def test_shards_split_at_the_request_and_byte_limits(tmp_path, cache_path, real_transcripts):
    items_source = [
        {"video_id": f"v{n}", "title": "t", "transcript": real_transcripts[n]["transcript"]} for n in range(30)
    ]
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, items_source)
        items = list(select_items(cache, SelectionReport(), "gpt-4o-mini"))
    by_count = write_shards(items, lambda n: tmp_path / "count" / f"r{n}.jsonl", "gpt-4o-mini", max_requests=7)
    assert [shard.requests for shard in by_count] == [7, 7, 7, 7, 2]
    by_bytes = write_shards(items, lambda n: tmp_path / "bytes" / f"r{n}.jsonl", "gpt-4o-mini", max_bytes=100_000)
    assert len(by_bytes) > 1 and all(shard.bytes <= 100_000 for shard in by_bytes)
    assert sum(shard.requests for shard in by_bytes) == 30
    audit = audit_input_files([shard.path for shard in by_count])
    assert audit.problems == [] and audit.requests == 30
    line = json.loads(by_count[0].path.read_text().splitlines()[0])
    request = BatchRequest.model_validate(line)
    assert request.custom_id.startswith("youtube:v")
    assert request.body.response_format["json_schema"]["strict"] is True
    assert request.body.messages[0]["content"] == SYSTEM_PROMPT
    index = read_index(by_count[0].index_path)
    assert set(index) == {json.loads(text)["custom_id"] for text in by_count[0].path.read_text().splitlines()}
    assert all(entry["attempts"] == 0 and entry["content_hash"] for entry in index.values())


def test_the_fast_encoder_writes_exactly_what_the_model_would():
    from tagging_assets.core.shards import CacheItem, RequestEncoder, build_request

    encoder = RequestEncoder("gpt-4o-mini", "Tag it.")
    odd = 'quotes " and \\ backslashes, \t tabs, \x00\x1f\x7f controls, </script>, 日本語'
    for text in ["plain", odd, "émoji 🤗, a line\nbreak and \u2028", ""]:
        item = CacheItem(7, 'v"7', 'Tïtle "x"', text, "hash", 0, "new")
        line, user = encoder.encode(item)
        expected = build_request(item, "gpt-4o-mini", "Tag it.")
        assert line.decode() == expected.model_dump_json() + "\n"
        assert user == expected.body.messages[1]["content"]


def test_a_lone_surrogate_in_a_transcript_is_sent_as_a_replacement_character(tmp_path, cache_path):
    broken = "A talk about vector search \ud83d cut mid-emoji."
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [{"video_id": "v-broken", "title": "Broken", "transcript": broken}])
        items = list(select_items(cache, SelectionReport(), "gpt-4o-mini"))
        (shard,) = write_shards(items, lambda n: tmp_path / f"r{n}.jsonl", "gpt-4o-mini")
        stored = cache.retrieve([point_id_for("v-broken")], ["transcript"])
    assert audit_input_files([shard.path]).problems == []
    sent = json.loads(shard.path.read_text(encoding="utf-8"))["body"]["messages"][1]["content"]
    assert "search \ufffd cut" in sent
    assert stored[point_id_for("v-broken")]["transcript"] == broken


def test_shards_split_at_the_token_budget_and_a_request_over_it_goes_alone(tmp_path):
    from tagging_assets.core.shards import CacheItem

    words = [100, 100, 100, 2000, 100, 100]
    items = [CacheItem(n, f"v{n}", "T", "word " * count, "h", 0, "new") for n, count in enumerate(words)]
    (unlimited,) = write_shards(items, lambda n: tmp_path / "all" / f"r{n}.jsonl", "gpt-4o-mini")
    tokens = [entry["input_tokens"] for entry in read_index(unlimited.index_path).values()]
    budget = tokens[0] * 2 + tokens[0] // 2
    assert tokens[3] > budget
    shards = write_shards(items, lambda n: tmp_path / f"r{n}.jsonl", "gpt-4o-mini", max_tokens=budget)
    per_shard = [[entry["point_id"] for entry in read_index(shard.index_path).values()] for shard in shards]
    assert per_shard == [[0, 1], [2], [3], [4, 5]]
    assert [shard.requests for shard in shards] == [2, 1, 1, 2]
    assert [shard.input_tokens for shard in shards] == [tokens[0] * 2, tokens[2], tokens[3], tokens[4] * 2]
    assert shards[2].largest_request_tokens == tokens[3]
    assert [shard.bytes for shard in shards] == [shard.path.stat().st_size for shard in shards]


def test_a_short_write_is_finished(tmp_path, monkeypatch):
    """``os.writev`` may write less than it was given (a signal, the last bytes of a full disk)."""
    import os

    from tagging_assets.core import shards as requests

    real_writev = os.writev
    monkeypatch.setattr(requests.os, "writev", lambda fd, buffers: real_writev(fd, [buffers[0][:3]]))
    buffers = [b"first line\n", b"second line\n", b"third\n"] * 700
    target = tmp_path / "out"
    with target.open("wb", buffering=0) as out:
        requests.write_all(out.fileno(), buffers)
    assert target.read_bytes() == b"".join(buffers)


def test_a_failure_while_writing_shards_propagates_and_leaves_no_writer_behind(tmp_path, monkeypatch):
    import threading

    import pytest

    from tagging_assets.core import shards as requests

    monkeypatch.setattr(requests._ShardWriter, "chunk_bytes", 4096)
    CacheItem = requests.CacheItem

    def items():
        for number in range(300):
            yield CacheItem(number, f"v{number}", "Title", "A talk about vector search.", "h", 0, "new")
        raise OSError("the cache went away")

    with pytest.raises(OSError, match="the cache went away"):
        write_shards(items(), lambda n: tmp_path / f"r{n}.jsonl", "gpt-4o-mini")
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("write-r1")]


def test_a_disk_that_fills_up_fails_the_write_with_its_error(tmp_path, monkeypatch):
    """The writer thread's error reaches the caller, however many chunks were waiting for it."""
    import errno
    import threading

    import pytest

    from tagging_assets.core import shards as requests

    monkeypatch.setattr(requests._ShardWriter, "chunk_bytes", 4096)
    real_write_all = requests.write_all
    written = []

    def fills_up(fd, buffers):
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(buffers))
        real_write_all(fd, buffers)

    monkeypatch.setattr(requests, "write_all", fills_up)
    items = (
        requests.CacheItem(number, f"v{number}", "Title", "A talk about vector search. " * 20, "h", 0, "new")
        for number in range(2000)
    )
    with pytest.raises(OSError, match="No space left on device"):
        write_shards(items, lambda n: tmp_path / f"r{n}.jsonl", "gpt-4o-mini")
    assert len(written) == 3
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("write-r1")]
