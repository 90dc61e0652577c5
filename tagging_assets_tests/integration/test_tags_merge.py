"""`tagging-assets tags` measuring the sprawl, `tags merge` repairing it, and the check that warns of it, on an
embedded cache seeded with known tags: the command line through click's runner, the check through Dagster."""

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from dagster import AssetCheckSeverity

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.defs.checks import tag_vocabulary_coherent
from tagging_assets.defs.resources import QdrantCacheResource, TaggingResource
from tagging_assets.seed.seeding import Transcript, point_id_for, seed_cache

STATE = {"status": "tagged", "batch_id": "batch_1", "model": "gpt-5-mini", "output_tokens": 40, "attempts": 1}
VIDEOS = {
    "v1": ["gpu", "cuda", "kernels"],
    "v2": ["gpus", "cuda"],
    "v3": ["llms", "rag"],
    "v4": ["large-language-models", "rag", "gpus"],
    "v5": ["kubernetis", "helm"],
    "v6": ["kubernetes", "sql"],
}


def seeded(tmp_path: Path) -> dict[str, str]:
    """The cache at ``tmp_path``, closed again; and a user's environment naming it."""
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        seed_cache(cache, [Transcript(video_id=video, title=f"Talk {video}", transcript="Words.") for video in VIDEOS])
        cache.set_payloads(
            (point_id_for(video), {"tags": tags, "summary": f"About {video}.", "tagging": STATE})
            for video, tags in VIDEOS.items()
        )
    (tmp_path / "aliases.txt").write_text("# variant: canonical\nllms: large-language-models\n", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QDRANT_", "TAGGING_"))}
    return base | {"QDRANT_PATH": str(tmp_path / "qdrant"), "TAGGING_TAG_ALIASES": str(tmp_path / "aliases.txt")}


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def payloads(tmp_path: Path) -> dict[str, dict[str, Any]]:
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        points, _ = cache.client.scroll(cache.collection, limit=100, with_payload=True)
    return {point.payload["video_id"]: point.payload for point in points if point.payload}


def test_tags_reports_the_figures_and_keeps_top_working(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    listed = cli(env, "tags", "--top", "2")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "tag   videos",
        "cuda       2",
        "gpus       2",
        "11 distinct tags on 6 tagged videos.",
        "73% of the tags are on a single video; 4 of 6 videos (67%) share a tag with another.",
    ]


def test_tags_near_duplicates_lists_the_groups_in_text_and_json(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    listed = cli(env, "tags", "--top", "1", "--near-duplicates")
    assert listed.stdout.splitlines()[-4:] == [
        "3 group(s) of tags that are likely the same (merge into the first):",
        "  gpus (2), gpu (1)  [stem]",
        "  kubernetes (1), kubernetis (1)  [edit]",
        "  large-language-models (1), llms (1)  [alias]",
    ]
    as_json = json.loads(cli(env, "tags", "--near-duplicates", "--json").stdout)
    assert as_json["figures"] == {
        "distinct_tags": 11,
        "tagged_videos": 6,
        "single_video_tags": 8,
        "single_video_tag_share": 0.7273,
        "videos_sharing_a_tag": 4,
        "videos_sharing_a_tag_share": 0.6667,
    }
    assert as_json["near_duplicates"][0] == {"tags": ["gpus", "gpu"], "reasons": ["stem"]}
    assert len(as_json["tags"]) == 11


def test_tags_merge_dry_run_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    before = payloads(tmp_path)
    dry = cli(env, "tags", "merge", "gpus", "gpu", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "    gpus, cuda  ->  gpu, cuda" in dry.stdout
    assert dry.stdout.splitlines()[-2:] == [
        "gpus -> gpu: 2 video(s)",
        "2 video(s) would change (dry run: nothing written).",
    ]
    assert payloads(tmp_path) == before


def test_tags_merge_changes_only_tags_and_the_record_and_twice_changes_nothing(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    before = payloads(tmp_path)
    merged = cli(env, "tags", "merge", "gpus", "cuda", "gpu", "--json")
    assert merged.exit_code == 0, merged.stderr
    report = json.loads(merged.stdout)
    assert report["videos_changed"] == 3
    assert report["merges"] == [
        {"from": "cuda", "into": "gpu", "videos": 2},
        {"from": "gpus", "into": "gpu", "videos": 2},
    ]
    after = payloads(tmp_path)
    assert after["v1"]["tags"] == ["gpu", "kernels"] and after["v2"]["tags"] == ["gpu"]
    [record] = after["v2"]["tagging"].pop("merges")
    assert record["from"] == ["gpus", "cuda"] and record["into"] == "gpu"
    assert after["v2"]["tagging"] == STATE, "no other field of the state changes"
    for video in VIDEOS:
        unchanged = {key: value for key, value in after[video].items() if key not in ("tags", "tagging")}
        assert unchanged == {key: value for key, value in before[video].items() if key not in ("tags", "tagging")}
    again = cli(env, "tags", "merge", "gpus", "cuda", "gpu")
    assert again.stdout.strip() == "Nothing to merge: no video carries a tag to merge."
    assert payloads(tmp_path)["v2"]["tagging"]["merges"] == [record], "no new merge record"


def test_tags_merge_aliases_merges_every_variant_once(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    merged = cli(env, "tags", "merge", "--aliases", str(tmp_path / "aliases.txt"))
    assert merged.exit_code == 0, merged.stderr
    assert merged.stdout.splitlines()[-1] == "1 video(s) changed."
    after = payloads(tmp_path)
    assert after["v3"]["tags"] == ["large-language-models", "rag"]
    assert after["v3"]["tagging"]["merges"][0]["from"] == ["llms"]
    again = cli(env, "tags", "merge", "--aliases", str(tmp_path / "aliases.txt"))
    assert "Nothing to merge" in again.stdout and payloads(tmp_path) == after


def test_tags_merge_refuses_what_it_cannot_do_and_changes_nothing(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    before = payloads(tmp_path)
    alone = cli(env, "tags", "merge", "gpu")
    assert alone.exit_code == 2 and "give at least one tag to merge and the tag to merge it into" in alone.stderr
    both = cli(env, "tags", "merge", "gpus", "gpu", "--aliases", str(tmp_path / "aliases.txt"))
    assert both.exit_code == 1 and both.stderr.strip() == "error: give FROM... INTO or --aliases FILE, not both"
    (tmp_path / "bad.txt").write_text("llms large-language-models\n", encoding="utf-8")
    malformed = cli(env, "tags", "merge", "--aliases", str(tmp_path / "bad.txt"))
    assert malformed.exit_code == 1 and "line 1: expected `variant: canonical-tag`" in malformed.stderr
    missing = cli({**env, "TAGGING_COLLECTION": "elsewhere"}, "tags", "merge", "gpus", "gpu")
    assert missing.exit_code == 1 and "the collection 'elsewhere' does not exist" in missing.stderr
    assert payloads(tmp_path) == before


def check(tmp_path: Path, **thresholds: Any) -> tuple[bool, AssetCheckSeverity, dict[str, Any]]:
    result = tag_vocabulary_coherent(
        qdrant=QdrantCacheResource(path=str(tmp_path / "qdrant")),
        tagging=TaggingResource(tag_aliases=str(tmp_path / "aliases.txt"), **thresholds),
    )
    return result.passed, result.severity, {key: value.value for key, value in result.metadata.items()}


def test_the_vocabulary_check_warns_past_the_thresholds_and_passes_under_them(tmp_path: Path) -> None:
    seeded(tmp_path)
    passed, severity, metadata = check(tmp_path, max_single_video_tag_share=0.75, max_near_duplicate_groups=3)
    assert passed and metadata["near_duplicate_groups"] == 3 and metadata["single_video_tag_share"] == 0.7273
    scattered, severity, _ = check(tmp_path, max_single_video_tag_share=0.7, max_near_duplicate_groups=3)
    assert not scattered and severity == AssetCheckSeverity.WARN, "a warning, never a failed asset"
    duplicated, severity, metadata = check(tmp_path, max_single_video_tag_share=0.75, max_near_duplicate_groups=2)
    assert not duplicated and severity == AssetCheckSeverity.WARN
    assert metadata["near_duplicates"][0] == {"tags": ["gpus", "gpu"], "reasons": ["stem"]}
