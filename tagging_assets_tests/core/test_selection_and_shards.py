"""Selecting what needs tags, and writing requests within the API's limits."""

import json

import pytest
from qdrant_client import models

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import SelectionReport, TaggingState
from tagging_assets.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, prompt_version_for
from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES
from tagging_assets.core.selection import CacheItem, content_hash, decide, read_manifest, select_items, write_manifest
from tagging_assets.core.shards import Limits, read_index, write_shards
from tagging_assets.core.tokens import TokenCounter
from tagging_assets.seed.seeding import Transcript, point_id_for, seed_cache
from tagging_assets.wire import ChatCompletionRequest, item_id_of
from tagging_assets_tests.support import shard_options

HASH = content_hash("title", "text")


def _select(cache, report=None):
    options = {"model": "gpt-4o-mini", "prompt_version": PROMPT_VERSION, "max_attempts": 3, "counter": TokenCounter()}
    return list(select_items(cache, report if report is not None else SelectionReport(), **options))


def _shards(items, output, system_prompt=SYSTEM_PROMPT, **limits):
    return write_shards(
        items, output, **shard_options(), system_prompt=system_prompt, counter=TokenCounter(), limits=Limits(**limits)
    )


def _state(**changes):
    return TaggingState.model_validate(
        {
            "status": "tagged",
            "content_hash": HASH,
            "prompt_version": PROMPT_VERSION,
            "model": "gpt-4o-mini",
            "attempts": 1,
            **changes,
        }
    )


def _decision(tagging, item_hash, model, prompt_version, max_attempts, backend="api"):
    decision = decide(
        tagging, item_hash, model=model, prompt_version=prompt_version, max_attempts=max_attempts, backend=backend
    )
    return decision.needs_tags, decision.reason, decision.attempts


def test_the_decision_covers_every_reason():
    def decide(tagging):
        return _decision(tagging, HASH, "gpt-4o-mini", PROMPT_VERSION, 3)[:2]

    assert decide(None) == (True, "new")
    assert decide(_state()) == (False, "up-to-date")
    assert decide(_state(content_hash="old")) == (True, "content-changed")
    assert decide(_state(prompt_version="tags-v0")) == (True, "prompt-changed")
    assert decide(_state(model="gpt-4o")) == (True, "model-changed")
    assert decide(_state(status="pending")) == (False, "pending")
    assert decide(_state(status="failed", attempts=2)) == (True, "retry")
    assert decide(_state(status="failed", attempts=3)) == (False, "given-up")
    assert decide(_state(status="failed", attempts=1, retryable=False)) == (False, "given-up")


def test_offline_tags_are_tagged_again_by_a_real_api_and_only_by_one():
    offline = _state(backend="offline-tagger")
    assert _decision(offline, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, "api")[:2] == (True, "offline-tags")
    assert _decision(offline, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, "offline-tagger")[:2] == (False, "up-to-date")
    by_api = _state(backend="api")
    assert _decision(by_api, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, "offline-tagger")[:2] == (False, "up-to-date")
    failed_offline = _state(backend="offline-tagger", status="failed", attempts=3)
    assert _decision(failed_offline, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, "api")[:2] == (False, "given-up")


def test_a_model_behind_the_gateway_replaces_offline_tags_and_its_own_tags_stand_as_any_apis():
    offline = _state(backend="offline-tagger")
    assert _decision(offline, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, "upstream")[:2] == (True, "offline-tags")
    by_upstream = _state(backend="upstream")
    for backend in ("api", "upstream", "offline-tagger"):
        assert _decision(by_upstream, HASH, "gpt-4o-mini", PROMPT_VERSION, 3, backend)[:2] == (False, "up-to-date")
    assert _decision(by_upstream, HASH, "gpt-4o", PROMPT_VERSION, 3, "api")[:2] == (True, "model-changed")


def test_a_custom_prompt_gets_its_own_version():
    assert prompt_version_for(SYSTEM_PROMPT) == PROMPT_VERSION
    assert prompt_version_for("Tag this.") != prompt_version_for("Tag that.")


def test_selection_skips_bad_points_each_with_its_reason(cache_path, real_transcripts):
    good = [
        {"video_id": item["video_id"], "title": item["title"], "transcript": item["transcript"]}
        for item in real_transcripts[:5]
    ]
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [Transcript(**item) for item in good])
        bad = {
            "no-transcript": {"video_id": "v-missing", "title": "t"},
            "number": {"video_id": "v-number", "title": "t", "transcript": "x"},
            "blank": {"video_id": "v-blank", "title": "t", "transcript": "   \n"},
            "dup": {"video_id": good[0]["video_id"], "title": "again", "transcript": "another copy"},
        }
        seed_cache(cache, [Transcript(**bad[name]) for name in ("no-transcript", "number", "blank")])
        cache.set_payloads([(point_id_for("v-number"), {"transcript": 42})])
        cache.upsert([models.PointStruct(id=999, vector=[1.0] + [0.0] * 255, payload=bad["dup"])])
        cache.upsert(
            [models.PointStruct(id=998, vector=[1.0] + [0.0] * 255, payload={"title": "no id", "transcript": "x"})]
        )
        odd_state = {"video_id": "v-odd-state", "title": "t", "transcript": "x", "tagging": {"status": "done"}}
        cache.upsert([models.PointStruct(id=997, vector=[1.0] + [0.0] * 255, payload=odd_state)])
        report = SelectionReport()
        items = _select(cache, report)
        [odd] = cache.points_by_id([997]).values()
    assert len(items) == 5
    assert odd.tagging is None and odd.tagging_problem is not None and "status" in odd.tagging_problem
    assert report.scanned == 11
    assert report.selected == {"new": 5}
    assert report.skipped == {
        "missing-transcript": 1,
        "transcript-not-text": 1,
        "empty-transcript": 1,
        "duplicate-video-id": 1,
        "missing-video-id": 1,
        "malformed-tagging": 1,
    }


def test_shards_split_at_the_request_and_byte_limits(tmp_path, cache_path, real_transcripts):
    items_source = [
        {"video_id": f"v{n}", "title": "t", "transcript": real_transcripts[n]["transcript"]} for n in range(30)
    ]
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [Transcript(**item) for item in items_source])
        items = _select(cache)
    by_count = _shards(items, tmp_path / "count" / "r.jsonl", requests=7)
    assert [shard.requests for shard in by_count] == [7, 7, 7, 7, 2]
    by_bytes = _shards(items, tmp_path / "bytes" / "r.jsonl", bytes=100_000)
    assert len(by_bytes) > 1 and all(shard.bytes <= 100_000 for shard in by_bytes)
    assert sum(shard.requests for shard in by_bytes) == 30
    audit = audit_input_files([shard.path for shard in by_count])
    assert audit.problems == [] and audit.requests == 30
    line = json.loads(by_count[0].path.read_text().splitlines()[0])
    request = ChatCompletionRequest.model_validate(line)
    assert request.custom_id.startswith("youtube:v")
    assert request.body.response_format["json_schema"]["strict"] is True
    assert request.body.messages[0]["content"] == SYSTEM_PROMPT
    index = read_index(by_count[0].index_path)
    assert set(index) == {json.loads(text)["custom_id"] for text in by_count[0].path.read_text().splitlines()}
    assert all(entry.attempts == 0 and entry.content_hash for entry in index.values())


def test_a_lone_surrogate_in_a_transcript_is_sent_as_a_replacement_character(tmp_path, cache_path):
    broken = "A talk about vector search \ud83d cut mid-emoji."
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [Transcript("v-broken", "Broken", broken)])
        items = _select(cache)
        (shard,) = _shards(items, tmp_path / "r.jsonl")
        stored = cache.points_by_id([point_id_for("v-broken")], transcripts=True)
    assert audit_input_files([shard.path]).problems == []
    sent = json.loads(shard.path.read_text(encoding="utf-8"))["body"]["messages"][1]["content"]
    assert "search \ufffd cut" in sent
    assert stored[point_id_for("v-broken")].transcript == broken


def test_shards_split_at_the_token_budget_and_a_request_over_it_goes_alone(tmp_path):
    words = [100, 100, 100, 2000, 100, 100]
    items = [CacheItem(n, f"v{n}", "T", "word " * count, "h", 0, "new") for n, count in enumerate(words)]
    (unlimited,) = _shards(items, tmp_path / "all" / "r.jsonl")
    tokens = [entry.input_tokens for entry in read_index(unlimited.index_path).values()]
    budget = tokens[0] * 2 + tokens[0] // 2
    assert tokens[3] > budget
    shards = _shards(items, tmp_path / "r.jsonl", tokens=budget)
    per_shard = [[entry.point_id for entry in read_index(shard.index_path).values()] for shard in shards]
    assert per_shard == [[0, 1], [2], [3], [4, 5]]
    assert [shard.requests for shard in shards] == [2, 1, 1, 2]
    assert [shard.input_tokens for shard in shards] == [tokens[0] * 2, tokens[2], tokens[3], tokens[4] * 2]
    assert shards[2].largest_request_tokens == tokens[3]
    assert [shard.bytes for shard in shards] == [shard.path.stat().st_size for shard in shards]


def test_a_failure_while_writing_shards_propagates_and_closes_the_shard(tmp_path):

    def items():
        for number in range(300):
            yield CacheItem(number, f"v{number}", "Title", "A talk about vector search.", "h", 0, "new")
        raise OSError("the cache went away")

    with pytest.raises(OSError, match="the cache went away"):
        _shards(items(), tmp_path / "r.jsonl")
    assert (tmp_path / "r.shard.json").is_file(), "the shard written so far is closed and described"


def test_a_disk_that_fills_up_fails_the_write_with_its_error(tmp_path):
    """Writing to /dev/full fails as a full disk does, with ENOSPC; the error reaches the caller."""
    import errno

    (tmp_path / "r.jsonl").symlink_to("/dev/full")
    items = (
        CacheItem(number, f"v{number}", "Title", "A talk about vector search. " * 20, "h", 0, "new")
        for number in range(2000)
    )
    with pytest.raises(OSError) as failure:
        _shards(items, tmp_path / "r.jsonl")
    assert failure.value.errno == errno.ENOSPC


def test_message_batch_shards_hold_anthropics_custom_ids_and_their_index_maps_them_to_points(tmp_path):
    assert (Limits.for_endpoint(MESSAGES).requests, Limits.for_endpoint(CHAT_COMPLETIONS).requests) == (100_000, 50_000)
    assert Limits.for_endpoint(MESSAGES).bytes < 256 * 1000 * 1000 < Limits.for_endpoint(MESSAGES).bytes + 100_100
    assert Limits.for_endpoint(CHAT_COMPLETIONS).bytes == 200 * 1000 * 1000, "decimal, as OpenAI writes it"
    items = [CacheItem(n, f"v:{n}-x_y", "Title", "A talk about vector search.", "h", 0, "new") for n in range(5)]
    shards = write_shards(
        items,
        tmp_path / "requests.jsonl",
        **shard_options("claude-haiku-4-5", MESSAGES),
        system_prompt=SYSTEM_PROMPT,
        counter=TokenCounter(),
        limits=Limits.for_endpoint(MESSAGES, requests=2),
    )
    assert [shard.requests for shard in shards] == [2, 2, 1]
    assert audit_input_files([shard.path for shard in shards]).problems == []
    for shard in shards:
        custom_ids = [json.loads(line)["custom_id"] for line in shard.path.read_text().splitlines()]
        index = read_index(shard.index_path)
        assert list(index) == custom_ids
        assert {item_id_of(custom_id): index[custom_id].point_id for custom_id in custom_ids} == {
            f"youtube:v:{n}-x_y": n for n in (index[c].point_id for c in custom_ids)
        }


def test_a_manifest_reads_its_items_back_from_the_cache_and_leaves_a_changed_one_for_the_next_selection(tmp_path):
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        seed_cache(cache, [Transcript(f"v{n}", "T", f"Talk {n} about search.") for n in range(3)])
        selected = _select(cache)
        manifest = tmp_path / "selection.jsonl"
        assert write_manifest(selected, manifest) == 3
        assert b"Talk" not in manifest.read_bytes(), "no transcript in the manifest"
        changed_id = point_id_for("v1")
        cache.set_payloads([(changed_id, {"transcript": "Edited since."})])
        changed = []
        items = list(read_manifest(cache, manifest, counter=TokenCounter(), changed=lambda: changed.append(1)))
    assert sorted(item.video_id for item in items) == ["v0", "v2"] and len(changed) == 1
    assert [(item.video_id, item.transcript, item.content_hash) for item in items] == [
        (item.video_id, item.transcript, item.content_hash) for item in selected if item.video_id != "v1"
    ], "the same items, in the manifest's order"
