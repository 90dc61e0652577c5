"""The Dagster graph end to end: assets, partitions, sensor and checks, against the gateway and embedded Qdrant."""

import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from dagster import (
    AssetKey,
    instance_for_test,
    materialize,
)

from tagging_assets.core.cache import QdrantCache
from tagging_assets.definitions import build_definitions, defs
from tagging_assets.defs import assets, checks
from tagging_assets.defs.partitions import batch_partitions
from tagging_assets_tests.reading import stored_payloads
from tagging_assets_tests.support import (
    PROVIDERS,
    resources_for,
    run_sensor,
    sensor_tick,
    submit_and_process,
    wait_for,
)

VOCABULARY_CHECK = "tag_vocabulary_coherent"


def test_the_whole_graph_tags_the_cache_one_partition_per_batch(instance, shared_gateway, seeded_cache, tmp_path):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path, max_requests_per_file=15)
    submitted, batch_ids, sensor_result, runs = submit_and_process(instance, resources, shared_gateway)

    assert len(batch_ids) == 3, "40 requests at 15 a file are three batches"
    assert sorted(instance.get_dynamic_partitions(batch_partitions.name)) == sorted(batch_ids)
    assert sorted(request.run_key for request in sensor_result.run_requests) == sorted(
        f"{b}:completed" for b in batch_ids
    )
    assert all(run.success for run in runs.values())
    assert instance.get_materialized_partitions(AssetKey("tagged_points")) == set(batch_ids)
    assert instance.get_materialized_partitions(AssetKey("batch_results_raw")) == set(batch_ids)
    for run in runs.values():
        evaluations = run.get_asset_check_evaluations()
        assert all(evaluation.passed for evaluation in evaluations if evaluation.check_name != VOCABULARY_CHECK), (
            "the vocabulary check only warns, of the tagger's choices: test_tags_merge.py tests it"
        )
        assert {evaluation.check_name for evaluation in evaluations} == {
            "every_request_accounted_for",
            "tags_follow_format",
            "cache_agrees_with_results",
            VOCABULARY_CHECK,
        }
    [input_check] = submitted.get_asset_check_evaluations()
    assert input_check.passed and input_check.metadata["requests"].value == 40

    metadata = {
        key.path[-1]: event.asset_materialization.metadata
        for key in (AssetKey("cached_transcripts"), AssetKey("batch_input_jsonl"), AssetKey("openai_batch_job"))
        if (event := instance.get_latest_materialization_event(key))
    }
    assert metadata["cached_transcripts"]["items_selected"].value == 40
    assert metadata["batch_input_jsonl"]["requests"].value == 40
    assert metadata["batch_input_jsonl"]["estimated_cost_batch_usd"].value > 0
    assert metadata["openai_batch_job"]["batches"].value == 3
    tagged = instance.get_latest_materialization_event(AssetKey("tagged_points")).asset_materialization.metadata
    assert tagged["items_tagged"].value + tagged["items_failed"].value in (10, 15), "a shard of 15, or the last of 10"
    assert tagged["cost_batch_usd"].value < tagged["cost_realtime_usd"].value
    assert "| custom_id | tags | summary |" in tagged["sample_tags"].value
    assert (tagged["provider"].value, tagged["model"].value) == ("openai", "gpt-4o-mini"), "the UI says who tagged"
    assert metadata["openai_batch_job"]["provider"].value == "openai"
    assert metadata["batch_input_jsonl"]["request_options"].value["max_output_tokens"] == 300
    assert tagged["reasoning_tokens"].value == 0 and tagged["cached_input_tokens"].value == 0
    assert metadata["batch_input_jsonl"]["token_count"].value == "estimate (4 characters a token)"
    assert metadata["batch_input_jsonl"]["largest_request_tokens"].value > 0

    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        payloads = [payload for _, payload in stored_payloads(cache, ["tagging", "tags"])]
    assert [payload.get("tagging", {}).get("status") for payload in payloads].count("tagged") == 40
    in_cache = Counter(tag for payload in payloads for tag in payload.get("tags", []))
    assert tagged["tagged_videos_in_cache"].value == 40
    assert tagged["distinct_tags_in_cache"].value == len(in_cache)
    single = sum(1 for count in in_cache.values() if count == 1)
    assert tagged["single_video_tags_in_cache"].value == single
    assert tagged["single_video_tag_share"].value == round(single / len(in_cache), 4)
    sharing = sum(1 for payload in payloads if any(in_cache[tag] > 1 for tag in payload.get("tags", [])))
    assert tagged["videos_sharing_a_tag"].value == sharing
    top = in_cache.most_common(1)[0]
    assert f"| {top[0]} | {top[1]} |" in tagged["top_tags_in_cache"].value
    assert "| tag | videos in this batch | videos in the cache |" in tagged["tags_in_this_batch"].value
    assert set(tagged["tags_only_in_this_batch"].value) <= set(in_cache)

    rerun = build_definitions(resources).resolve_job_def("submit_batches").execute_in_process(instance=instance)
    assert rerun.output_for_node("openai_batch_job")["batches"] == ()
    rerun_metadata = instance.get_latest_materialization_event(
        AssetKey("batch_input_jsonl")
    ).asset_materialization.metadata
    assert rerun_metadata["requests"].value == 0 and rerun_metadata["estimated_cost_batch_usd"].value == 0
    assert run_sensor(instance, resources).skip_reason.skip_message == "no batches in flight"


def test_the_sensor_reports_progress_and_requests_one_run_per_finished_batch(start_gateway, shared_gateway):
    from tagging_assets_tests.support import jsonl, request_line, submit

    gateway = start_gateway(validating_stall_seconds=60)
    slow = start_gateway(seconds_per_line=10, workers=1)
    expiring = start_gateway(expire_after_seconds=1, seconds_per_line=5, workers=1)
    text = "Prompt caching reuses the key value cache across requests. Prompt caching saves cost."
    lines = jsonl([request_line(f"n{n}", text) for n in range(3)])
    batches = {
        "validating": (gateway, submit(gateway.client(), lines).id),
        "in_progress": (slow, submit(slow.client(), lines).id),
        "failed": (shared_gateway, submit(shared_gateway.client(), b"{broken\n").id),
        "expired": (expiring, submit(expiring.client(), lines).id),
    }
    wait_for(slow.client(), batches["in_progress"][1], ("in_progress",))
    for status in ("failed", "expired"):
        backend, batch_id = batches[status]
        assert wait_for(backend.client(), batch_id).status == status
    for status, (backend, batch_id) in batches.items():
        with instance_for_test() as single:
            single.add_dynamic_partitions(batch_partitions.name, [batch_id])
            result = sensor_tick(single, backend.base_url)
            if status in ("validating", "in_progress"):
                assert not result.run_requests
                assert f"{batch_id} {status}" in result.skip_reason.skip_message
            else:
                assert [request.run_key for request in result.run_requests] == [f"{batch_id}:{status}"]
                assert result.run_requests[0].partition_key == batch_id


def test_cancelled_batches_are_requested_and_processed_ones_skipped(instance, shared_gateway, tmp_path):
    from dagster import AssetMaterialization

    from tagging_assets_tests.support import jsonl, request_line, submit

    client = shared_gateway.client()
    text = "Agents call tools in a loop. Agents call tools."
    cancelled = submit(client, jsonl([request_line(f"c{n}", text) for n in range(2)]))
    client.batches.cancel(cancelled.id)
    wait_for(client, cancelled.id)
    done = submit(client, jsonl([request_line("d", text)]))
    wait_for(client, done.id)
    instance.add_dynamic_partitions(batch_partitions.name, [cancelled.id, done.id])
    instance.report_runless_asset_event(AssetMaterialization("tagged_points", partition=done.id))
    result = sensor_tick(instance, shared_gateway.base_url)
    assert [request.run_key for request in result.run_requests] == [f"{cancelled.id}:cancelled"]


def _processed(instance, shared_gateway, seeded_cache, tmp_path):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path)
    _, [batch_id], _, runs = submit_and_process(instance, resources, shared_gateway)
    assert runs[batch_id].success
    return resources, batch_id


def _run_checks(instance, resources, batch_id, *selected):
    job = build_definitions(resources).resolve_job_def("process_batch")
    result = job.get_subset(asset_check_selection={check.check_key for check in selected}).execute_in_process(
        instance=instance, partition_key=batch_id, raise_on_error=False
    )
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_the_input_check_fails_on_a_bad_file_and_blocks(instance, shared_gateway, seeded_cache, tmp_path):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path)
    prepared = materialize(
        [assets.cached_transcripts, assets.batch_input_jsonl], resources=resources, instance=instance
    )
    manifest = prepared.output_for_node("batch_input_jsonl")
    shard = manifest["shards"][0]["path"]
    with open(shard) as original:
        first_line = original.readline()
    with open(shard, "a") as corrupt:
        corrupt.write('{"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {}}\n')
        corrupt.write(first_line)
    result = checks.batch_input_is_valid(batch_input_jsonl=manifest)
    assert not result.passed
    problems = result.metadata["problems"].value
    assert any("url" in problem for problem in problems)
    assert any("duplicate custom_id" in problem for problem in problems)
    assert (
        checks.batch_input_is_valid.check_specs_by_output_name["result"].blocking is True
        if hasattr(checks.batch_input_is_valid, "check_specs_by_output_name")
        else True
    )


def test_the_results_check_fails_when_a_line_is_missing_or_repeated(instance, shared_gateway, seeded_cache, tmp_path):
    resources, batch_id = _processed(instance, shared_gateway, seeded_cache, tmp_path)
    output = tmp_path / "work" / "results" / batch_id / "output.jsonl"
    lines = output.read_text().splitlines()
    output.write_text("\n".join([*lines[1:], lines[1]]) + "\n")
    evaluation = _run_checks(instance, resources, batch_id, checks.every_request_accounted_for)[
        "every_request_accounted_for"
    ]
    assert not evaluation.passed
    assert evaluation.metadata["missing"].value == 1 and evaluation.metadata["repeated"].value == 1


def test_the_format_and_agreement_checks_fail_on_a_tampered_cache(instance, shared_gateway, seeded_cache, tmp_path):
    resources, batch_id = _processed(instance, shared_gateway, seeded_cache, tmp_path)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        point_id, _ = next(stored_payloads(cache, ["tags"]))
        cache.set_payloads([(point_id, {"tags": ["Not A Tag", "video"], "summary": "edited by hand"})])
    evaluations = _run_checks(
        instance, resources, batch_id, checks.tags_follow_format, checks.cache_agrees_with_results
    )
    assert not evaluations["tags_follow_format"].passed
    problems = evaluations["tags_follow_format"].metadata["problems"].value
    assert any("2 tags, not 3-5" in p for p in problems) and any("generic" in p for p in problems)
    assert not evaluations["cache_agrees_with_results"].passed
    assert "differ from the results" in evaluations["cache_agrees_with_results"].metadata["disagreements"].value[0]


def test_the_definitions_load_and_validate(tmp_path):
    graph = defs.resolve_asset_graph()
    keys = {key.path[-1] for key in graph.get_all_asset_keys()}
    assert keys == {"cached_transcripts", "batch_input_jsonl", "openai_batch_job", "batch_results_raw", "tagged_points"}
    parents = {key.path[-1]: {p.path[-1] for p in graph.get(key).parent_keys} for key in graph.get_all_asset_keys()}
    assert parents == {
        "cached_transcripts": set(),
        "batch_input_jsonl": {"cached_transcripts"},
        "openai_batch_job": {"batch_input_jsonl"},
        "batch_results_raw": {"openai_batch_job"},
        "tagged_points": {"batch_results_raw"},
    }
    assert all(graph.get(key).description for key in graph.get_all_asset_keys())
    assert defs.resolve_sensor_def("batch_status_sensor").default_status.value == "RUNNING"
    assert defs.resolve_schedule_def("submit_new_and_stale")
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "tagging_assets.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]


LISTING = {
    "openai": "GET /v1/batches",
    "azure": "GET /openai/batches",
    "anthropic": "GET /v1/messages/batches",
    "gemini": "GET /v1/batches",
}
RETRIEVE = {route: f"{route}/{{id}}" for route in LISTING.values()}
ELSEWHERE_PREFIX = {"anthropic": "msgbatch_", "gemini": "batches/"}
"""How each provider's batch ids begin, for an id the API does not know."""


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_sensor_tick_lists_the_batches_in_flight_a_page_a_call_and_asks_only_for_the_rest(
    instance, start_gateway, provider
):
    from tagging_assets_tests.support import jsonl, message_request, request_line, submit

    gateway = start_gateway(validating_stall_seconds=600)
    if provider == "anthropic":
        sdk = gateway.anthropic_client()
        batch_ids = [sdk.messages.batches.create(requests=[message_request(f"n{n}", "Text.")]).id for n in range(150)]
    elif provider == "gemini":
        client = gateway.gemini_client()
        request = {"contents": [{"role": "user", "parts": [{"text": "Text."}]}]}
        batch_ids = [str(client.batches.create(model="gemini-2.5-flash-lite", src=[request]).name) for _ in range(150)]
    else:
        batch_ids = [submit(gateway.client(), jsonl([request_line(f"n{n}", "Text.")])).id for n in range(150)]
    elsewhere = ELSEWHERE_PREFIX.get(provider, "batch_") + "0" * 24
    instance.add_dynamic_partitions(batch_partitions.name, [*batch_ids, elsewhere])

    before = gateway.served()
    result = sensor_tick(instance, gateway, provider)
    calls = {route: count - before.get(route, 0) for route, count in gateway.served().items()}
    listing = LISTING[provider]
    assert {route: count for route, count in calls.items() if count} == {listing: 2, RETRIEVE[listing]: 1}, (
        "150 batches are two pages of the listing; only the one it does not show is asked for by id"
    )
    phase = "in_progress" if provider == "anthropic" else "validating"
    message = result.skip_reason.skip_message
    assert sum(f" {phase} " in line for line in message.split("; ")) == 20, "the reason names 20 and counts the rest"
    assert "; and 130 more batches in flight; " in message and message.endswith(f"unknown: {elsewhere}")
    assert {event.partition for event in result.asset_events} == set(batch_ids), "each batch's progress recorded"
    assert {event.metadata["status"].value for event in result.asset_events} == {phase}


def test_the_sensor_records_each_batchs_progress_on_its_partition_when_it_changes(instance, start_gateway):
    from dagster import build_sensor_context

    from tagging_assets.defs.resources import BatchApiResource, TaggingResource
    from tagging_assets.defs.sensors import batch_status_sensor
    from tagging_assets_tests.support import jsonl, request_line, submit

    gateway = start_gateway(seconds_per_line=0.5)
    lines = jsonl([request_line(f"n{n}", "Vector search with Qdrant and HNSW graphs.") for n in range(40)])
    batch = submit(gateway.client(), lines)
    instance.add_dynamic_partitions(batch_partitions.name, [batch.id])
    resources = {"batch_api": BatchApiResource(base_url=gateway.base_url, api_key="k"), "tagging": TaggingResource()}

    def tick(cursor):
        return batch_status_sensor(build_sensor_context(instance=instance, resources=resources, cursor=cursor))

    client = gateway.client()
    wait_for(client, batch.id, ("in_progress",))
    while client.batches.retrieve(batch.id).request_counts.completed == 0:
        time.sleep(0.05)
    first = tick(None)
    [observation] = first.asset_events
    assert observation.asset_key.path == ["batch_results_raw"] and observation.partition == batch.id
    assert observation.metadata["status"].value == "in_progress"
    assert observation.metadata["requests_total"].value == 40
    assert 0 < observation.metadata["progress_pct"].value < 100
    client.batches.cancel(batch.id)
    wait_for(client, batch.id, ("cancelled",))
    finished = tick(first.cursor)
    assert [event.metadata["status"].value for event in finished.asset_events] == ["cancelled"]
    assert tick(finished.cursor).asset_events == []


def test_no_transcript_is_written_to_disk_before_the_request_files(
    instance, shared_gateway, seeded_cache, tmp_path, real_transcripts
):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path)
    submitted = build_definitions(resources).resolve_job_def("submit_batches").execute_in_process(instance=instance)
    [batch] = submitted.output_for_node("openai_batch_job")["batches"]
    requests = batch["input_file"]
    written = [path for path in (tmp_path / "work").rglob("*") if path.is_file() and path != requests]
    snippets = [item["transcript"][200:260].encode() for item in real_transcripts[:40]]
    holding = [str(path) for path in written if any(snippet in path.read_bytes() for snippet in snippets)]
    assert holding == [], "the request files are the only copy of the transcripts"
    assert sum(snippet in requests.read_bytes() for snippet in snippets) == 40
    manifest = instance.get_latest_materialization_event(assets.cached_transcripts.key).asset_materialization
    assert manifest.metadata["manifest_bytes"].value < 150 * 40, "a few dozen bytes an item"
