"""Realtime and flex jobs beside the provider's batches (``batches/jobs.py``): made once from the same bytes, run
until every request has its answer, followed by the same statuses and downloads as a batch, and a run interrupted
part way finished by the next without sending again what was answered."""

from pathlib import Path

import pytest

from tagging_assets.batches import steps
from tagging_assets.batches.jobs import Jobs, jobs_of
from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.batches.providers import SubmitOptions
from tagging_assets.batches.records import RecordStore
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import SelectionReport, Shard
from tagging_assets.core.errors import BatchError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets_tests.support import ServedGateway


class Interrupted(BaseException):
    """A stop from outside, like Ctrl-C, part way through a run."""


def _setup(tmp_path: Path, cache_path: Path, gateway: ServedGateway, items: int) -> tuple[Jobs, Shard, RecordStore]:
    settings = TaggingSettings(work_dir=tmp_path / "work", mode="realtime", max_concurrency=1)
    plan = TaggingPlan.from_settings(settings)
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        selected = steps.select(cache, plan, report=SelectionReport(), limit=items)
        [shard] = steps.write_requests(selected, tmp_path / "requests.jsonl", plan=plan)
    return jobs_of(gateway.client(), settings), shard, RecordStore(settings.work_dir)


def _options() -> SubmitOptions:
    return SubmitOptions(collection="nate_content", backend="offline-tagger", file_ttl_seconds=3600)


def test_a_job_is_made_once_from_the_same_bytes_and_a_finished_one_sends_nothing_more(
    tmp_path, seeded_cache, start_gateway
):
    gateway = start_gateway()
    jobs, shard, records = _setup(tmp_path, seeded_cache, gateway, items=4)
    record = jobs.submit(shard, mode="realtime", records=records, options=_options())
    assert record.batch_id.startswith("realtime-") and record.mode == "realtime"
    assert jobs.status(record.batch_id).status == "in_progress", "made, not yet run"
    report = jobs.run(record)
    assert report is not None and (report.succeeded, report.failed) == (4, 0)
    again = jobs.submit(shard, mode="realtime", records=records, options=_options())
    assert again == record
    assert jobs.run(again) is None
    assert gateway.realtime_arrivals()["total"] == 4
    status = jobs.status(record.batch_id)
    assert (status.status, status.completed, status.metadata["mode"]) == ("completed", 4, "realtime")
    files = jobs.download(status, tmp_path / "unused.jsonl")
    assert files.output is not None and files.output.read_bytes().count(b"\n") == 4 and files.errors is None


def test_an_interrupted_job_is_unfinished_until_a_later_run_sends_the_rest_once(tmp_path, seeded_cache, start_gateway):
    gateway = start_gateway()
    jobs, shard, records = _setup(tmp_path, seeded_cache, gateway, items=6)
    record = jobs.submit(shard, mode="realtime", records=records, options=_options())
    answered = 0

    def stop_after_two(count: int) -> None:
        nonlocal answered
        answered += count
        if answered >= 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        jobs.run(record, progress=stop_after_two)
    status = jobs.status(record.batch_id)
    assert status.status == "in_progress" and 2 <= status.completed < 6
    assert jobs.realtime.unfinished() == [record.batch_id]
    with pytest.raises(BatchError, match="is still in_progress; its results are not ready"):
        jobs.download(status, tmp_path / "unused.jsonl")
    jobs.run(record)
    assert jobs.status(record.batch_id).completed == 6 and jobs.realtime.unfinished() == []
    received = gateway.realtime_arrivals()["received"]
    assert len(received) == 6 and sum(received.values()) <= 7, "at most the one request in flight went twice"


def test_statuses_follow_batches_at_the_api_and_jobs_in_the_work_directory_alike(tmp_path, seeded_cache, start_gateway):
    gateway = start_gateway()
    jobs, shard, records = _setup(tmp_path, seeded_cache, gateway, items=3)
    job = jobs.submit(shard, mode="realtime", records=records, options=_options())
    jobs.run(job)
    batch = jobs.submit(shard, mode="batch", records=records, options=_options())
    assert batch.batch_id.startswith("batch_") and batch.mode == "batch"
    found = jobs.statuses([job.batch_id, batch.batch_id, "flex-0000"])
    assert set(found.found) == {job.batch_id, batch.batch_id} and found.unknown == ["flex-0000"]
    assert jobs.output_expires_in(found.found[job.batch_id], now=0) is None, "a job's results stay on this disk"
