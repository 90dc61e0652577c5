"""Tag frequencies across the cache, and the videos carrying a tag."""

import warnings
from dataclasses import asdict

from qdrant_client import QdrantClient

from tagging_assets.core import report
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.report import ensure_tag_index, tag_frequencies, videos_with_tag
from tagging_assets.seed.seeding import Transcript, point_id_for, seed_cache

TALKS = [
    {"video_id": "v1", "title": "Vector search", "transcript": "HNSW graphs.", "tags": ["vector-search", "hnsw"]},
    {"video_id": "v2", "title": "Another search", "transcript": "Quantization.", "tags": ["vector-search", "pq"]},
    {"video_id": "v3", "title": "Untagged", "transcript": "Not yet."},
]


def _seeded(cache: QdrantCache) -> None:
    seed_cache(cache, [Transcript(**{key: talk[key] for key in ("video_id", "title", "transcript")}) for talk in TALKS])
    cache.set_payloads(
        (point_id_for(talk["video_id"]), {"tags": talk["tags"], "summary": f"About {talk['title']}."})
        for talk in TALKS
        if "tags" in talk
    )


def test_frequencies_count_each_video_once_per_tag(cache_path):
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        _seeded(cache)
        cache.set_payloads([(point_id_for("v3"), {"tags": ["pq", "pq"]})])
        frequencies, tagged = tag_frequencies(cache)
    assert tagged == 3
    assert frequencies == {"vector-search": 2, "pq": 2, "hnsw": 1}


def test_a_vocabulary_larger_than_one_facet_is_counted_whole(cache_path, monkeypatch):
    monkeypatch.setattr(report, "_FACET_PAGE", 2)
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        _seeded(cache)
        cache.set_payloads([(point_id_for("v3"), {"tags": []})])
        frequencies, tagged = tag_frequencies(cache)
    assert tagged == 2, "an empty list of tags is no tags"
    assert frequencies == {"vector-search": 2, "pq": 1, "hnsw": 1}


def test_search_finds_exactly_the_videos_with_the_tag(cache_path):
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        _seeded(cache)
        found = videos_with_tag(cache, "vector-search")
        assert videos_with_tag(cache, "vector") == [], "a whole tag, never a part of one"
    assert [video.video_id for video in found] == ["v2", "v1"], "sorted by title"
    assert asdict(found[1]) == {
        "point_id": point_id_for("v1"),
        "video_id": "v1",
        "title": "Vector search",
        "tags": ["vector-search", "hnsw"],
        "summary": "About Vector search.",
    }


def test_the_embedded_store_gets_no_index_and_a_server_is_asked_for_one(cache_path):
    """No Qdrant server is reachable here: the server's path runs through qdrant-client's local mode, which
    takes the same calls (so their arguments are checked) but keeps no keyword index to look at."""
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        _seeded(cache)
        assert ensure_tag_index(cache) is False
        assert cache.client.get_collection("nate_content").payload_schema == {}
    client = QdrantClient(path=str(cache_path))
    as_server = QdrantCache("nate_content", client=client, embedded=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Payload indexes have no effect in the local Qdrant")
        assert ensure_tag_index(as_server) is True
        assert ensure_tag_index(as_server) is True
        assert tag_frequencies(as_server) == ({"vector-search": 2, "hnsw": 1, "pq": 1}, 2)
    assert [video.video_id for video in videos_with_tag(as_server, "pq")] == ["v2"]
    as_server.close()
