"""The vocabulary's sprawl measured (figures, near-duplicate groups) and repaired (merges), on a small embedded
cache seeded with known tags."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.merge import MergePlan, merge_tags
from tagging_assets.core.report import near_duplicate_groups, tag_frequencies, vocabulary_figures
from tagging_assets.seed.seeding import Transcript, point_id_for, seed_cache

STATE = {"status": "tagged", "batch_id": "batch_1", "model": "gpt-5-mini", "input_tokens": 120, "attempts": 1}
VIDEOS = {
    "v1": ["gpu", "cuda", "kernels"],
    "v2": ["gpus", "cuda"],
    "v3": ["llms", "large-language-models", "rag"],
    "v4": ["kubernetis", "helm"],
    "v5": ["kubernetes", "rag"],
    "v6": ["sql"],
}


def seeded(cache: QdrantCache, videos: dict[str, list[str]] = VIDEOS) -> None:
    seed_cache(cache, [Transcript(video_id=video, title=f"Talk {video}", transcript="Words.") for video in videos])
    seed_cache(cache, [Transcript(video_id="untagged", title="Untagged", transcript="Not yet.")])
    cache.set_payloads(
        (point_id_for(video), {"tags": tags, "summary": f"About {video}.", "tagging": STATE})
        for video, tags in videos.items()
    )


def payloads(cache: QdrantCache) -> dict[str, dict[str, Any]]:
    points, _ = cache.client.scroll(cache.collection, limit=100, with_payload=True)
    return {point.payload["video_id"]: point.payload for point in points if point.payload}


def test_figures_count_distinct_tags_single_video_tags_and_videos_sharing_one(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seeded(cache)
        frequencies, tagged = tag_frequencies(cache)
        figures = vocabulary_figures(cache, frequencies, tagged)
    assert (figures.distinct_tags, figures.tagged_videos) == (11, 6)
    assert figures.single_video_tags == 9, "only cuda and rag are on two videos"
    assert figures.videos_sharing_a_tag == 4, "v1, v2 share cuda; v3, v5 share rag"
    assert figures.to_json()["single_video_tag_share"] == round(9 / 11, 4)
    assert figures.to_json()["videos_sharing_a_tag_share"] == round(4 / 6, 4)


def test_an_empty_cache_has_no_sprawl_to_divide_by(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [Transcript(video_id="v1", title="Untagged", transcript="Words.")])
        frequencies, tagged = tag_frequencies(cache)
        figures = vocabulary_figures(cache, frequencies, tagged)
    assert figures.to_json() == {
        "distinct_tags": 0,
        "tagged_videos": 0,
        "single_video_tags": 0,
        "single_video_tag_share": 0.0,
        "videos_sharing_a_tag": 0,
        "videos_sharing_a_tag_share": 0.0,
    }


def test_near_duplicates_are_grouped_by_stem_alias_and_one_edit() -> None:
    frequencies = Counter({tag: 1 for tags in VIDEOS.values() for tag in tags}) + Counter(["cuda", "rag", "gpu"])
    groups = near_duplicate_groups(frequencies, aliases={"llms": "large-language-models"})
    assert [(group.tags, group.reasons) for group in groups] == [
        (("gpu", "gpus"), ("stem",)),
        (("kubernetes", "kubernetis"), ("edit",)),
        (("large-language-models", "llms"), ("alias",)),
    ], "the groups of the most videos first"
    assert groups[0].into == "gpu", "the most used tag of a group is the one to merge into"


def test_short_tags_one_edit_apart_are_different_ideas_and_distant_ones_never_group() -> None:
    frequencies = Counter(["rag", "rat", "kernel", "kennel-xx", "python", "typhon", "docker", "dockers"])
    assert [group.tags for group in near_duplicate_groups(frequencies)] == [("docker", "dockers")]


def test_a_tag_linked_to_two_others_joins_one_group_with_both_reasons() -> None:
    frequencies = Counter(["embedding", "embeddings", "embeddinx", "vectors"])
    [group] = near_duplicate_groups(frequencies)
    assert set(group.tags) == {"embedding", "embeddings", "embeddinx"}
    assert group.reasons == ("edit", "stem")


def test_alias_chains_are_followed_and_a_loop_is_refused() -> None:
    plan = MergePlan.of_aliases({"llm": "llms", "llms": "large-language-models", "ai": "ai"})
    assert plan.into_by_tag == {"llm": "large-language-models", "llms": "large-language-models"}
    with pytest.raises(ConfigError, match="the aliases loop: a -> b -> a"):
        MergePlan.of_aliases({"a": "b", "b": "a"})


def test_merging_into_nothing_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot merge into '--'"):
        MergePlan.of_tags(["gpus"], "--")


def test_a_merge_rewrites_only_tags_and_the_merge_record_and_keeps_one_copy(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seeded(cache, {**VIDEOS, "v7": ["gpus", "gpu", "cuda"]})
        before = payloads(cache)
        report = merge_tags(cache, MergePlan.of_tags(["gpus", "GPU"], "gpu"), at="2026-01-01T00:00:00+00:00")
        after = payloads(cache)
    assert report.videos_changed == 2 and report.videos_by_merge == {("gpus", "gpu"): 2}
    assert after["v2"]["tags"] == ["gpu", "cuda"]
    assert after["v7"]["tags"] == ["gpu", "cuda"], "a video that has INTO already keeps one copy, in place"
    record = {"from": ["gpus"], "into": "gpu", "at": "2026-01-01T00:00:00+00:00"}
    for video in ("v2", "v7"):
        assert after[video]["tagging"] == {**STATE, "merges": [record]}
        assert {k: v for k, v in after[video].items() if k not in ("tags", "tagging")} == {
            k: v for k, v in before[video].items() if k not in ("tags", "tagging")
        }
    assert {video: after[video] for video in after if video not in ("v2", "v7")} == {
        video: before[video] for video in before if video not in ("v2", "v7")
    }


def test_a_dry_run_reports_the_change_and_writes_nothing(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seeded(cache)
        before = payloads(cache)
        report = merge_tags(cache, MergePlan.of_tags(["gpus"], "gpu"), dry_run=True)
        assert payloads(cache) == before
    assert report.dry_run and report.videos_changed == 1
    [video] = report.examples
    assert (video.video_id, video.before, video.after) == ("v2", ("gpus", "cuda"), ("gpu", "cuda"))


def test_merging_twice_changes_nothing_the_second_time(cache_path: Path) -> None:
    plan = MergePlan.of_aliases({"llms": "large-language-models", "kubernetis": "kubernetes"})
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seeded(cache)
        first = merge_tags(cache, plan)
        merged = payloads(cache)
        second = merge_tags(cache, plan)
        assert payloads(cache) == merged
    assert first.videos_changed == 2 and second.videos_changed == 0
    assert merged["v3"]["tags"] == ["large-language-models", "rag"]
    assert len(merged["v3"]["tagging"]["merges"]) == 1


def test_a_later_merge_appends_its_record(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seeded(cache)
        merge_tags(cache, MergePlan.of_tags(["gpus"], "gpu"), at="first")
        merge_tags(cache, MergePlan.of_tags(["cuda"], "gpu"), at="second")
        state = payloads(cache)["v2"]["tagging"]
    assert state["merges"] == [
        {"from": ["gpus"], "into": "gpu", "at": "first"},
        {"from": ["cuda"], "into": "gpu", "at": "second"},
    ]


def test_a_video_with_no_tagging_state_gets_its_tags_merged_and_no_invented_state(cache_path: Path) -> None:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        seed_cache(cache, [Transcript(video_id="hand", title="Tagged by hand", transcript="Words.")])
        cache.set_payloads([(point_id_for("hand"), {"tags": ["gpus", "cuda"]})])
        merge_tags(cache, MergePlan.of_tags(["gpus"], "gpu"))
        payload = payloads(cache)["hand"]
        [point] = cache.points()
    assert payload["tags"] == ["gpu", "cuda"] and "tagging" not in payload
    assert point.tagging_problem is None
