"""Cost control and sharding: estimates, a cap, a user's price table, limits per file and the token budget."""

import json

import pytest
from dagster import AssetKey

from tagging_assets.core import cost
from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cost import CostCapError, PricingError, cost_of, enforce_cap
from tagging_assets.core.shards import CacheItem, write_shards
from tagging_assets.definitions import build_definitions
from tagging_assets_tests.support import failed_submit_message, resources_for, sensor_tick, statuses, wait_for


def test_120000_requests_become_three_valid_shards(tmp_path):
    items = (
        CacheItem(n, f"v{n}", "A title", f"A short talk number {n} about vector search.", "h", 0, "new")
        for n in range(120_000)
    )
    shards = write_shards(items, lambda n: tmp_path / f"requests-{n}.jsonl", "gpt-4o-mini")
    assert [shard.requests for shard in shards] == [50_000, 50_000, 20_000]
    audit = audit_input_files(shard.path for shard in shards)
    assert audit.problems == [] and audit.requests == 120_000
    assert all(shard.bytes <= 200 * 1024 * 1024 for shard in shards)


def test_the_price_table_can_be_updated_from_a_file(tmp_path, monkeypatch):
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"gpt-4o-mini": {"input": 0.30, "output": 1.20}, "my-model": {"input": 1, "output": 2}})
    )
    monkeypatch.setenv("TAGGING_PRICING_FILE", str(prices))
    assert cost_of("gpt-4o-mini", 1_000_000, 0).realtime_usd == pytest.approx(0.30)
    assert cost_of("gpt-4o-mini", 1_000_000, 0).batch_usd == pytest.approx(0.15)
    assert cost_of("my-model", 0, 1_000_000).realtime_usd == pytest.approx(2.0)
    prices.write_text("not json")
    cost._prices_from.cache_clear()
    with pytest.raises(PricingError, match=r"TAGGING_PRICING_FILE=.*must be JSON"):
        cost_of("gpt-4o-mini", 1, 1)
    cost._prices_from.cache_clear()


def test_the_cap_refuses_before_anything_is_spent():
    with pytest.raises(CostCapError, match=r"over the cap of \$0.0010"):
        enforce_cap(cost_of("gpt-4o-mini", 100_000, 0), 0.001, "this submission")
    enforce_cap(cost_of("gpt-4o-mini", 100_000, 0), 1.0, "this submission")


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
