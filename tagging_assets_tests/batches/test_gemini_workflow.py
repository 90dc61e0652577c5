"""Gemini end to end through the library's settings: a batch prepared, submitted, followed, downloaded and written
back, and realtime and flex jobs whose lines name no model sent to the job's model, all through google-genai
against the gateway."""

from __future__ import annotations

import json

import pytest

from tagging_assets.batches import steps
from tagging_assets.batches.jobs import jobs_of
from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.batches.providers import RealtimeOptions, SubmitOptions, batch_api_client, realtime_sender
from tagging_assets.batches.records import RecordStore
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import SelectionReport
from tagging_assets.core.executor import RealtimeRequest
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.core.settings import TaggingSettings
from tagging_assets_tests.reading import statuses


def gemini_settings(gateway, tmp_path, **fields) -> TaggingSettings:
    return TaggingSettings(
        provider="gemini",
        gemini_api_key="gemini-test-key",
        gemini_base_url=f"http://127.0.0.1:{gateway.port}",
        work_dir=tmp_path / "work",
        **fields,
    )


def test_a_gemini_batch_is_tagged_and_written_back_like_any_other(start_gateway, seeded_cache, tmp_path):
    gateway = start_gateway()
    settings = gemini_settings(gateway, tmp_path)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=settings)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
        assert shard.endpoint == GENERATE_CONTENT and shard.model == "gemini-2.5-flash-lite"
        batch_id = processor.submit_batch(shard)
        assert batch_id.startswith("batches/")
        gateway.wait_until(batch_id)
        ended = processor.check_status(batch_id)
        files = processor.download_results(batch_id)
        summary = processor.process_results(batch_id, files.output, files.errors)
    assert (ended.status, ended.total, ended.completed) == ("completed", shard.requests, shard.requests)
    assert (summary.tagged, summary.failed) == (shard.requests, 0)
    assert {state["batch_id"] for state in statuses(seeded_cache).values()} == {batch_id}


@pytest.mark.parametrize("mode", ["realtime", "flex"])
def test_a_gemini_job_s_calls_go_to_the_job_s_model_and_flex_asks_for_the_flex_tier(
    start_gateway, seeded_cache, tmp_path, mode
):
    gateway = start_gateway()
    settings = gemini_settings(gateway, tmp_path, mode=mode, max_concurrency=1)
    plan = TaggingPlan.from_settings(settings)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        selected = steps.select(cache, plan, report=SelectionReport(), limit=3)
        [shard] = steps.write_requests(selected, tmp_path / "requests.jsonl", plan=plan)
    jobs = jobs_of(batch_api_client(settings), settings)
    options = SubmitOptions(collection="nate_content", backend="offline-tagger", file_ttl_seconds=3600)
    record = jobs.submit(shard, mode=mode, records=RecordStore(settings.work_dir), options=options)
    report = jobs.run(record)
    assert report is not None and (report.succeeded, report.failed) == (3, 0)
    assert gateway.realtime_arrivals()["total"] == 3
    files = jobs.download(jobs.status(record.batch_id), tmp_path / "unused.jsonl")
    assert files.output is not None and files.output.read_bytes().count(b"\n") == 3


def test_a_flex_call_asks_for_the_flex_tier_and_its_429_goes_back_to_the_executor_after_one_attempt(
    start_gateway, tmp_path
):
    gateway = start_gateway(flex_unavailable_rate=1.0)
    client = batch_api_client(gemini_settings(gateway, tmp_path))
    line = {"key": "item-1", "request": {"contents": [{"role": "user", "parts": [{"text": "A talk on sourdough."}]}]}}
    request = RealtimeRequest(custom_id="item-1", line=json.dumps(line).encode(), rate_tokens=10)
    model = "gemini-2.5-flash-lite"
    flex = realtime_sender(client, "gemini", RealtimeOptions(model=model, service_tier="flex", timeout=30))(request)
    standard = realtime_sender(client, "gemini", RealtimeOptions(model=model, timeout=30))(request)
    assert flex.status_code == 429 and json.loads(flex.body)["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert standard.status_code == 200 and json.loads(standard.body)["candidates"]
    assert sum(gateway.realtime_arrivals()["429_by_reason"].values()) == 1, "one attempt, not the SDK's five"


def test_an_expired_gemini_job_has_no_results_and_every_item_it_did_not_run_is_prepared_again(
    start_gateway, seeded_cache, tmp_path
):
    gateway = start_gateway(expire_after_seconds=0.3, seconds_per_line=1.0, workers=1)
    settings = gemini_settings(gateway, tmp_path)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=settings)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(shard)
        assert gateway.wait_until(batch_id)["status"] == "expired"
        files = processor.download_results(batch_id)
        summary = processor.process_results(batch_id)
        [again] = processor.prepare_files(tmp_path / "again.jsonl")
    assert files.output is None, "an expired Gemini job keeps no results"
    ran = files.output.read_bytes().count(b"\n") if files.output is not None else 0
    assert ran == summary.tagged < shard.requests
    assert summary.failed_by_reason == {"batch_expired": shard.requests - ran}
    assert again.requests == shard.requests - ran, "every item the job did not run is submitted again"
