"""Messy tags end canonical, end to end: the Dagster jobs submit and process a batch whose replies spell their tags
as a straying model does; every item is tagged once, in canonical form or flagged ``few_tags``, its raw tags kept,
nothing failed for format and nothing selected to be paid for again."""

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from dagster import AssetKey

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import MAX_TAGS, MIN_TAGS
from tagging_assets.core.shards import read_index
from tagging_assets.core.tags import canonical_form, canonicalize, stem_key
from tagging_assets.definitions import build_definitions
from tagging_assets_tests.reading import statuses, stored_payloads
from tagging_assets_tests.support import resources_for, submit_and_process, user_env


def test_messy_replies_end_as_canonical_tags_or_few_tags_and_none_is_paid_twice(
    instance, start_gateway, seeded_cache, tmp_path, provider
):
    gateway = start_gateway(messy_tags_rate=0.5, invalid_json_rate=0.1)
    resources = resources_for(gateway, seeded_cache, tmp_path, provider)
    _, [batch_id], _, runs = submit_and_process(instance, resources, gateway)
    summary = runs[batch_id].output_for_node("tagged_points")

    assert set(summary["failed_by_reason"]) == {"invalid_json"}, "a reply of the wrong shape still fails"
    assert summary["tagged"] + summary["failed"] == 40 and summary["failed"] < 10
    assert summary["few_tags"] > 0 and summary["dropped_tags"] > 0
    states = statuses(seeded_cache)
    tagged = {video: state for video, state in states.items() if state["status"] == "tagged"}
    assert len(tagged) == summary["tagged"]
    failed = [state for state in states.values() if state["status"] != "tagged"]
    assert all(state["status"] == "failed" and state["error"].startswith("invalid_json") for state in failed)

    with_tags = _tags_by_video(seeded_cache)
    rewritten = 0
    for video, state in tagged.items():
        canonical = canonicalize(state["raw_tags"])
        assert [stem_key(tag) for tag in with_tags[video]] == [stem_key(tag) for tag in canonical.tags], (
            "the cache holds the reply's tags made canonical, each in the library's spelling of its stem"
        )
        assert state["dropped_tags"] == list(canonical.dropped)
        assert state["few_tags"] == (len(with_tags[video]) < MIN_TAGS) and len(with_tags[video]) <= MAX_TAGS
        rewritten += state["raw_tags"] != with_tags[video]
    assert rewritten >= summary["few_tags"] > 0
    assert sum(state["few_tags"] for state in tagged.values()) == summary["few_tags"]

    evaluations = {e.check_name: e for e in runs[batch_id].get_asset_check_evaluations()}
    assert all(evaluation.passed for name, evaluation in evaluations.items() if name != "tag_vocabulary_coherent"), (
        "the vocabulary check only warns: sprawl on 40 videos is measured, not a failure"
    )
    assert evaluations["tags_follow_format"].metadata["few_tags"].value == summary["few_tags"]
    metadata = instance.get_latest_materialization_event(AssetKey("tagged_points")).asset_materialization.metadata
    assert metadata["items_with_few_tags"].value == summary["few_tags"]
    assert metadata["tags_dropped"].value == summary["dropped_tags"]

    build_definitions(resources).resolve_job_def("submit_batches").execute_in_process(instance=instance)
    selected = instance.get_latest_materialization_event(AssetKey("cached_transcripts")).asset_materialization
    assert selected.metadata["selected_by_reason"].value == {"retry": summary["failed"]}, "only the shape failures"
    records = resources["tagging"].records()
    sent = Counter(
        entry.point_id
        for batch in gateway.batches()
        for entry in read_index(Path(records.load(batch).index_file)).values()
    )
    assert len(sent) == 40 and Counter(sent.values()) == {1: summary["tagged"], 2: summary["failed"]}, "paid once"


def _tags_by_video(cache_path: Path) -> dict[str, list[str]]:
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        return {payload["video_id"]: payload.get("tags") for _, payload in stored_payloads(cache, ["video_id", "tags"])}


def test_a_preview_of_messy_replies_shows_the_tags_a_run_would_write(tmp_path, start_gateway):
    """The preview exists to try a prompt or vocabulary before paying: it shows the canonical tags write-back would
    store, not the reply's spellings."""
    gateway = start_gateway(messy_tags_rate=1.0)
    env = user_env(tmp_path, gateway)
    runner = CliRunner()
    assert runner.invoke(main, ["seed-cache"], env=env).exit_code == 0
    preview = runner.invoke(main, ["tag", "--limit", "4", "--preview", "--json"], env=env, catch_exceptions=False)
    assert preview.exit_code == 0, preview.stderr
    rows = json.loads(preview.stdout)["preview"]
    raw = [json.loads(line) for path in (tmp_path / "work" / "preview").rglob("output.jsonl") for line in path.open()]
    assert len(rows) == 4 == len(raw)
    assert all(row["new_tags"] for row in rows)
    for row in rows:
        assert list(row["new_tags"]) == list(canonicalize(row["new_tags"]).tags), "already canonical, as written"
        assert all(tag == canonical_form(tag) for tag in row["new_tags"])
