"""The bundled samples and seeding the cache."""

import pytest

from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import InputError
from tagging_assets.seed.embedding import DIMENSIONS
from tagging_assets.seed.samples import load_samples
from tagging_assets.seed.seeding import point_id_for, read_transcripts_jsonl, seed_cache
from tagging_assets_tests.support import transcripts_path


def test_the_samples_are_forty_talks_of_300_to_6000_words_plus_edge_cases():
    samples = load_samples()
    words = {item.video_id: len((item.transcript or "").split()) for item in samples}
    talks = [video for video, count in words.items() if 300 <= count <= 6000]
    assert len(talks) >= 40
    assert len({item.title for item in samples}) == len(samples)
    assert min(words.values()) == 0 and any(item.transcript is None for item in samples), "one without text"
    assert any(0 < count < 100 for count in words.values()), "a very short one"
    assert max(words.values()) > 6000, "a very long one"


def test_seeding_writes_the_payload_schema_and_real_vectors_and_is_safe_to_repeat(cache_path):
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        first = seed_cache(cache, load_samples())
        cache.set_payloads([(point_id_for("sample-rlhf"), {"tags": ["kept"]})])
        again = seed_cache(cache, load_samples())
        [point] = cache.client.retrieve("nate_content", [point_id_for("sample-rlhf")], with_vectors=True)
    assert (first.added, again.added, again.already_present) == (43, 0, 43)
    assert point.payload["type"] == "youtube_video"
    assert point.payload["video_id"] == "sample-rlhf"
    assert point.payload["title"].startswith("Reinforcement learning")
    assert point.payload["channel"] and point.payload["published_at"]
    assert point.payload["tags"] == ["kept"], "seeding again leaves existing points alone"
    assert len(point.vector) == DIMENSIONS and abs(sum(v * v for v in point.vector) - 1) < 1e-6


def test_seeding_from_a_jsonl_file_of_real_transcripts(cache_path):
    with QdrantCache.connect("other", path=cache_path) as cache:
        report = seed_cache(cache, read_transcripts_jsonl(transcripts_path()))
        assert report.added == 105
        assert cache.count() == 105


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"video_id": "a", "title": "t", "transcript": "x"}\n{not json}\n', ":2: not valid JSON"),
        ('{"title": "t", "transcript": "x"}\n', ":1: missing 'video_id'"),
        ('{"video_id": "a", "transcript": 42}\n', ":1: 'transcript' must be a string"),
        ("[1, 2]\n", ":1: each line must be a JSON object"),
    ],
)
def test_a_malformed_source_file_names_the_line(tmp_path, content, message):
    source = tmp_path / "bad.jsonl"
    source.write_text(content)
    with pytest.raises(InputError, match=message):
        list(read_transcripts_jsonl(source))
