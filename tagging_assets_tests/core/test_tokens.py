"""Token counts: exact with tiktoken when its encoding is on the machine, the documented estimate otherwise."""

import json
import math
import re

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import SelectionReport
from tagging_assets.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, user_message
from tagging_assets.core.selection import select_items
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import read_index
from tagging_assets.core.tokens import TokenCounter
from tagging_assets.core.tokens import counter_for as _counter_for
from tagging_assets.seed.seeding import seed_cache
from tagging_assets_tests.support import cache_items


def counter_for(model: str) -> TokenCounter:
    """The counter a run would use, looking where the environment tells tiktoken to look."""
    return _counter_for(model, TaggingSettings.from_env().tiktoken_cache_dir)


SENTENCE = "Retrieval-augmented generation grounds a model's answers in documents it looks up."


def test_without_the_encoding_counts_are_the_estimate():
    counter = counter_for("gpt-4o-mini")
    assert not counter.exact
    assert counter.method == "estimate (4 characters a token)"
    assert counter.count(SENTENCE) == math.ceil(len(SENTENCE) / 4)
    assert counter.request_tokens([SENTENCE, ""]) == 3 + 4 + math.ceil(len(SENTENCE) / 4) + 4


def test_with_the_encoding_in_tiktokens_cache_counts_are_exact(tiktoken_encodings):
    import tiktoken

    counter = counter_for("gpt-4o-mini")
    assert counter.exact
    assert counter.method == "exact (tiktoken o200k_base)"
    assert counter_for("a-model-tiktoken-has-never-heard-of").method == "exact (tiktoken o200k_base)"
    reference = tiktoken.get_encoding("o200k_base")
    assert counter.count("hello world") == 2
    assert counter.count(SENTENCE) == len(reference.encode_ordinary(SENTENCE))
    texts = [SENTENCE * n for n in range(1, 40)]
    assert counter.count_many(texts) == [counter.count(text) for text in texts]


def test_the_estimate_overestimates_real_transcripts_as_the_readme_says(tiktoken_encodings, real_transcripts):
    exact, estimate = counter_for("gpt-4o-mini"), TokenCounter()
    for item in real_transcripts:
        messages = [SYSTEM_PROMPT, user_message(item["title"], item["transcript"])]
        counted, guessed = exact.request_tokens(messages), estimate.request_tokens(messages)
        assert 1.05 * counted < guessed < 1.35 * counted, item["video_id"]


def test_prepare_records_exact_counts_per_request(tiktoken_encodings, seeded_cache, tmp_path):
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, None, work_dir=tmp_path)
        (shard,) = processor.prepare_files(tmp_path / "input.jsonl")
    exact = counter_for("gpt-4o-mini")
    lines = [json.loads(line) for line in shard.path.read_text(encoding="utf-8").splitlines()]
    expected = {
        line["custom_id"]: exact.request_tokens([m["content"] for m in line["body"]["messages"]]) for line in lines
    }
    index = read_index(shard.index_path)
    assert {custom_id: entry.input_tokens for custom_id, entry in index.items()} == expected
    assert shard.input_tokens == sum(expected.values())
    assert shard.largest_request_tokens == max(expected.values())


def test_an_over_budget_transcript_is_trimmed_to_the_budget_in_exact_tokens(
    tiktoken_encodings, cache_path, real_transcripts
):
    longest = max(real_transcripts, key=lambda item: len(item["transcript"]))
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, cache_items([longest], 1))
        report = SelectionReport()
        (item,) = select_items(
            cache,
            report,
            model="gpt-4o-mini",
            prompt_version=PROMPT_VERSION,
            max_attempts=3,
            counter=counter_for("gpt-4o-mini"),
            max_transcript_tokens=500,
        )
    counter = counter_for("gpt-4o-mini")
    head, marker, tail = re.split(r"\n\n(\[\.\.\. [\d,]+ words omitted \.\.\.\])\n\n", item.transcript)
    assert item.truncated and report.truncated == 1
    assert counter.count(head) <= 340 and counter.count(tail) <= 170
    assert longest["transcript"].startswith(head[:200]) and longest["transcript"].endswith(tail[-200:])
    assert marker.startswith("[... ")
