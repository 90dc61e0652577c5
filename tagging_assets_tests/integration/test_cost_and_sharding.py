"""Cost control and sharding through Dagster and the gateway: the cap uploads nothing, the token budget waits."""

from dagster import AssetKey

from tagging_assets.definitions import build_definitions
from tagging_assets_tests.reading import statuses
from tagging_assets_tests.support import failed_submit_message, resources_for, sensor_tick, wait_for


def test_a_submission_over_the_cost_cap_uploads_nothing(instance, start_gateway, seeded_cache, tmp_path):
    gateway = start_gateway()
    resources = resources_for(gateway, seeded_cache, tmp_path, max_cost_usd=0.0001)
    assert "over the cap of $0.0001 (TAGGING_MAX_COST_USD)" in failed_submit_message(instance, resources)
    client = gateway.client()
    assert list(client.files.list()) == [] and list(client.batches.list()) == []


def test_work_over_the_token_budget_waits_and_is_submitted_as_batches_finish(
    instance, start_gateway, seeded_cache, tmp_path
):
    gateway = start_gateway(validating_stall_seconds=1)
    resources = resources_for(gateway, seeded_cache, tmp_path, enqueued_token_limit=15_000)
    project = build_definitions(resources)
    submit, process = project.resolve_job_def("submit_batches"), project.resolve_job_def("process_batch")
    first = submit.execute_in_process(instance=instance)
    metadata = instance.get_latest_materialization_event(AssetKey("openai_batch_job")).asset_materialization.metadata
    assert metadata["batches"].value == 1 and metadata["deferred_requests"].value > 0
    shards = first.output_for_node("batch_input_jsonl")["shards"]
    assert len(shards) > 1 and all(shard["input_tokens"] <= 15_000 for shard in shards)
    submissions = 1
    while True:
        in_flight = [b for b in gateway.client().batches.list() if b.status not in ("completed", "failed")]
        for batch in in_flight:
            wait_for(gateway.client(), batch.id)
        result = sensor_tick(instance, gateway.base_url)
        if not result.run_requests:
            assert result.skip_reason.skip_message == "no batches in flight"
            break
        for request in result.run_requests:
            if request.job_name == "submit_batches":
                more = submit.execute_in_process(instance=instance)
                assert len(more.output_for_node("openai_batch_job")["batches"]) == 1, "one shard fits at once"
                submissions += 1
            else:
                assert process.execute_in_process(instance=instance, partition_key=request.partition_key).success
    assert submissions == len(shards)
    assert instance.get_materialized_partitions(AssetKey("tagged_points")) == set(
        instance.get_dynamic_partitions("openai_batches")
    )
    assert {state["status"] for state in statuses(seeded_cache).values()} == {"tagged"}
