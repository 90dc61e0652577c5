"""Anthropic's Message Batches through the library: submitted inline, found again without metadata, a duplicate
cancelled, results and their expiry, all through the anthropic SDK against the gateway."""

from __future__ import annotations

import time

import pytest
from anthropic import Anthropic

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.batches.providers.anthropic_batches import RESULTS_KEPT_SECONDS, MessageBatches
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import BatchStatus
from tagging_assets.core.settings import TaggingSettings
from tagging_assets_tests.reading import statuses


def anthropic_settings(gateway, tmp_path) -> TaggingSettings:
    return TaggingSettings(
        provider="anthropic",
        anthropic_api_key="sk-ant-test",
        anthropic_base_url=f"http://127.0.0.1:{gateway.port}",
        work_dir=tmp_path / "work",
    )


def test_a_duplicate_found_is_cancelled_before_it_runs_and_nothing_is_billed_twice(
    start_gateway, seeded_cache, tmp_path, monkeypatch
):
    # The create's response is cut off (the batch is made), and the listing does not show that batch yet, so
    # the create is tried again and a second batch is made: the case a Message Batch's missing metadata allows.
    # A request takes longer than the few calls between a create and the cancel, as it does at Anthropic.
    gateway = start_gateway(disconnect_every=2, seconds_per_line=0.5, workers=4)
    gateway.anthropic_client().messages.batches.list()
    lagging = {"calls": 0}
    listed = MessageBatches._made_by

    def listing_behind_once(self, pending, submission):
        lagging["calls"] += 1
        return None if lagging["calls"] == 1 else listed(self, pending, submission)

    monkeypatch.setattr(MessageBatches, "_made_by", listing_behind_once)
    warnings: list[str] = []
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=anthropic_settings(gateway, tmp_path), warn=warnings.append)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(shard)

    made = gateway.batches()
    assert len(made) == 2, "the create went out twice"
    [duplicate] = [other for other in made if other != batch_id]
    assert gateway.wait_until(duplicate)["status"] == "cancelled"
    assert gateway.batches()[duplicate]["completed"] == 0, "the duplicate ran no request: nothing billed twice"
    [warning] = warnings
    assert warning.startswith(f"cancelled Message Batch {duplicate}: the create for {batch_id} went out twice")

    gateway.wait_until(batch_id)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        summary = BatchProcessor(cache, settings=anthropic_settings(gateway, tmp_path)).process_results(batch_id)
    assert (summary.tagged, summary.failed) == (40, 0)
    assert {state["batch_id"] for state in statuses(seeded_cache).values()} == {batch_id}


def test_a_message_batch_shows_no_progress_until_it_ends_then_every_outcome_in_one_results_file(
    start_gateway, seeded_cache, tmp_path
):
    gateway = start_gateway(seconds_per_line=0.05, workers=1, line_error_rate=0.2, line_error_status=400)
    settings = anthropic_settings(gateway, tmp_path)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, settings=settings)
        [shard] = processor.prepare_files(tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(shard)
        running = processor.check_status(batch_id)
        assert (running.status, running.total, running.completed, running.progress_pct) == ("in_progress", 40, 0, 0)
        gateway.wait_until(batch_id)
        ended = processor.check_status(batch_id)
        files = processor.download_results(batch_id)
        summary = processor.process_results(batch_id, files.output, files.errors)
    assert ended.status == "completed" and ended.completed + ended.failed == 40
    assert files.errors is None and files.output is not None
    assert summary.tagged == ended.completed and summary.failed_by_reason == {"http_400": ended.failed}
    assert summary.cost is not None and summary.cost.batch_usd == pytest.approx(summary.cost.realtime_usd / 2, abs=1e-6)


def test_results_are_warned_of_in_their_last_day_29_days_after_the_batch_was_made():
    api = MessageBatches(Anthropic(api_key="unused", base_url="http://127.0.0.1:9"))
    now = time.time()
    made = int(now) - RESULTS_KEPT_SECONDS + 3600
    ended = BatchStatus(
        batch_id="msgbatch_x",
        status="completed",
        total=1,
        completed=1,
        failed=0,
        progress_pct=100.0,
        output_file_id="http://127.0.0.1:9/v1/messages/batches/msgbatch_x/results",
        error_file_id=None,
        created_at=made,
    )
    assert 3599 < (api.output_expires_in(ended, now=now) or 0) <= 3600
    assert api.output_expires_in(ended.model_copy(update={"status": "in_progress"}), now=now) is None
