"""Gemini shards: written within Gemini's limits, audited like every other shard, and accounted for by key."""

import json

from tagging_assets.core.audit import account_for_results, audit_input_files
from tagging_assets.core.prompt import SYSTEM_PROMPT
from tagging_assets.core.protocol import (
    CHAT_COMPLETIONS,
    GENERATE_CONTENT,
    MAX_BYTES_PER_GEMINI_FILE,
    MAX_REQUESTS_PER_FILE,
)
from tagging_assets.core.selection import CacheItem
from tagging_assets.core.shards import Limits, read_index, write_shards
from tagging_assets.core.tokens import TokenCounter
from tagging_assets_tests.support import shard_options

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})


def _items(count):
    return [CacheItem(n, f"v{n}", "Title", "A talk about vector search.", "h", 0, "new") for n in range(count)]


def _gemini_shards(tmp_path, count, requests=None):
    return write_shards(
        _items(count),
        tmp_path / "requests.jsonl",
        **shard_options("gemini-2.5-flash-lite", GENERATE_CONTENT),
        system_prompt=SYSTEM_PROMPT,
        counter=TokenCounter(),
        limits=Limits.for_endpoint(GENERATE_CONTENT, requests=requests),
    )


def test_a_gemini_shard_is_held_to_the_2_gb_file_and_the_usual_request_count():
    limits = Limits.for_endpoint(GENERATE_CONTENT)
    assert (limits.requests, limits.bytes) == (MAX_REQUESTS_PER_FILE, MAX_BYTES_PER_GEMINI_FILE)
    assert MAX_BYTES_PER_GEMINI_FILE == 2 * 1000 * 1000 * 1000
    assert Limits.for_endpoint(GENERATE_CONTENT, requests=7).requests == 7


def test_gemini_shards_pass_the_audit_and_their_index_maps_each_key_to_its_point(tmp_path):
    shards = _gemini_shards(tmp_path, 5, requests=2)
    assert [shard.requests for shard in shards] == [2, 2, 1]
    assert audit_input_files([shard.path for shard in shards]).problems == []
    for shard in shards:
        lines = [json.loads(line) for line in shard.path.read_text().splitlines()]
        assert all(set(line) == {"key", "request"} for line in lines)
        index = read_index(shard.index_path)
        assert list(index) == [line["key"] for line in lines]
        assert {key: index[key].point_id for key in index} == {
            f"youtube:v{p}": p for p in (index[k].point_id for k in index)
        }


def test_the_audit_refuses_a_file_mixing_gemini_and_openai_lines_and_a_repeated_key(tmp_path):
    shard = _gemini_shards(tmp_path, 2)[0]
    gemini_line = shard.path.read_bytes().splitlines()[0]
    chat = {
        "custom_id": "youtube:z",
        "method": "POST",
        "url": CHAT_COMPLETIONS,
        "body": {"model": "m", "messages": [{}]},
    }
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(gemini_line + b"\n" + gemini_line + b"\n" + json.dumps(chat).encode() + b"\n")
    problems = audit_input_files([mixed]).problems
    assert any("duplicate custom_id 'youtube:v0'" in problem for problem in problems)
    assert any("several endpoints in one file" in problem for problem in problems)


def test_a_gemini_result_file_is_accounted_for_by_key(tmp_path):
    response = {"candidates": [{"content": {"parts": [{"text": REPLY}]}, "finishReason": "STOP"}]}
    output = tmp_path / "output.jsonl"
    output.write_text(
        "\n".join(
            [
                json.dumps({"key": "youtube:a", "response": response}),
                json.dumps({"key": "youtube:b", "error": {"code": 500, "message": "x", "status": "INTERNAL"}}),
                json.dumps({"key": "youtube:z", "response": response}),
                "not json",
            ]
        )
    )
    accounting = account_for_results(["youtube:a", "youtube:b", "youtube:c"], output, None)
    assert (accounting.in_output, accounting.missing, accounting.unknown) == (3, ["youtube:c"], ["youtube:z"])
    assert len(accounting.unreadable) == 1 and not accounting.complete
