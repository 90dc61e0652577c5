"""Gemini's Batch API through the library: inline and uploaded shards, status, results, a lost create, a duplicate
cancelled, an expired and a failed job, all through the google-genai SDK against the gateway."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tagging_assets.batches.providers import gemini_batches
from tagging_assets.batches.providers.base import SubmitOptions
from tagging_assets.batches.providers.dispatch import batch_api_of, sdk_client
from tagging_assets.batches.providers.gemini_batches import GeminiBatches
from tagging_assets.batches.records import RecordStore
from tagging_assets.core.contracts import Shard
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.gateway.tokens import prompt_tokens

MODEL = "gemini-2.5-flash-lite"


def gemini_line(key: str, text: str) -> dict[str, Any]:
    """A request line as the shard holds it: the REST ``GenerateContentRequest`` under its key, no model."""
    return {
        "key": key,
        "request": {
            "contents": [{"role": "user", "parts": [{"text": text}]}],
            "systemInstruction": {"parts": [{"text": "Tag the transcript; answer with JSON."}]},
            "generationConfig": {"responseMimeType": "application/json", "maxOutputTokens": 2000},
        },
    }


def gemini_shard(folder: Path, transcripts: list[dict[str, Any]], count: int, *, attempt: int = 0) -> Shard:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [gemini_line(f"item-{n}", str(item.get("text") or item)) for n, item in enumerate(transcripts[:count])]
    path, index = folder / "input.jsonl", folder / "input.index.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    index.write_text(json.dumps({"attempt": attempt, "keys": [line["key"] for line in lines]}) + "\n")
    return Shard(
        path=path,
        index_path=index,
        requests=len(lines),
        bytes=path.stat().st_size,
        input_tokens=100 * len(lines),
        largest_request_tokens=100,
        model=MODEL,
        prompt_version=hashlib.sha256(b"test").hexdigest()[:8],
        endpoint=GENERATE_CONTENT,
    )


def submit_options(warnings: list[str] | None = None) -> SubmitOptions:
    warn = warnings.append if warnings is not None else (lambda line: None)
    return SubmitOptions(collection="nate_content", backend="local", file_ttl_seconds=86_400, warn=warn)


def api_at(gateway) -> GeminiBatches:
    """The library's client against the gateway, retrying as ``batch_api_client`` makes it retry."""
    client = sdk_client("gemini", base_url=f"http://127.0.0.1:{gateway.port}", api_key="gemini-local", max_retries=5)
    api = batch_api_of(client, "gemini")
    assert isinstance(api, GeminiBatches)
    return api


def result_keys(path: Path | None) -> list[str]:
    assert path is not None
    return [json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()]


def wait_finished(api: GeminiBatches, gateway, batch_id: str):
    gateway.wait_until(batch_id)
    return api.status(batch_id)


def test_an_inline_shard_runs_and_its_results_come_back_keyed(start_gateway, tmp_path, real_transcripts):
    gateway = start_gateway()
    api = api_at(gateway)
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 6)
    record = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options())
    assert record.batch_id.startswith("batches/") and record.endpoint == GENERATE_CONTENT
    finished = wait_finished(api, gateway, record.batch_id)
    assert (finished.status, finished.total, finished.completed, finished.failed) == ("completed", 6, 6, 0)
    assert finished.output_file_id is None, "inline results stay with the job"
    files = api.download(finished, tmp_path / "results.jsonl")
    assert sorted(result_keys(files.output)) == sorted(f"item-{n}" for n in range(6))
    assert api.output_expires_in(finished, now=0) is None


def test_a_shard_too_large_to_send_inline_is_uploaded_and_read_back_from_its_responses_file(
    start_gateway, tmp_path, real_transcripts, monkeypatch
):
    gateway = start_gateway()
    api = api_at(gateway)
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 5)
    monkeypatch.setattr(gemini_batches, "MAX_BYTES_INLINE_GEMINI_BATCH", shard.bytes // 2)
    record = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options())
    finished = wait_finished(api, gateway, record.batch_id)
    assert finished.status == "completed" and finished.output_file_id, "a file's job names its responses file"
    files = api.download(finished, tmp_path / "results.jsonl")
    assert sorted(result_keys(files.output)) == sorted(f"item-{n}" for n in range(5))
    assert not (tmp_path / "results.jsonl.partial").exists()


def test_a_job_is_found_again_by_its_display_name_without_the_work_directory(start_gateway, tmp_path, real_transcripts):
    gateway = start_gateway(seconds_per_line=0.2, workers=1)
    api = api_at(gateway)
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 3)
    first = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options())
    again = api.submit(shard, records=RecordStore(tmp_path / "another-work"), options=submit_options())
    assert again.batch_id == first.batch_id
    assert len(gateway.batches()) == 1


def test_a_create_whose_answer_is_lost_leaves_exactly_one_job(start_gateway, tmp_path, real_transcripts):
    gateway = start_gateway(disconnect_every=2, seconds_per_line=0.2, workers=1)
    api = api_at(gateway)
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 4)
    record = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options())
    assert list(gateway.batches()) == [record.batch_id]
    assert not (tmp_path / "work" / "pending").exists() or not any((tmp_path / "work" / "pending").iterdir())


def test_a_duplicate_found_after_a_create_is_cancelled_before_it_runs(
    start_gateway, tmp_path, real_transcripts, monkeypatch
):
    # The create's answer is cut off (the job is made) and the listing does not show that job yet, so the create
    # is tried again and a second job is made; the listing read after it finds both.
    # The first job runs for 8 s on the one worker, so the duplicate waits behind it until it is cancelled.
    gateway = start_gateway(disconnect_every=2, seconds_per_line=2, workers=1)
    api = api_at(gateway)
    behind = {"calls": 0}
    search = GeminiBatches._search

    def listing_behind(self, submission):
        behind["calls"] += 1
        found = search(self, submission)
        return None if behind["calls"] <= 2 else found

    monkeypatch.setattr(GeminiBatches, "_search", listing_behind)
    warnings: list[str] = []
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 4)
    record = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options(warnings))
    made = gateway.batches()
    assert len(made) == 2, "the create went out twice"
    [duplicate] = [job for job in made if job != record.batch_id]
    assert gateway.wait_until(duplicate)["status"] == "cancelled"
    assert gateway.batches()[duplicate]["completed"] == 0, "cancelled before it ran a request"
    [warning] = warnings
    assert warning.startswith(f"cancelled Gemini batch job {duplicate}: the create for {record.batch_id}")
    kept = wait_finished(api, gateway, record.batch_id)
    assert (kept.status, kept.completed) == ("completed", 4)


def test_an_expired_job_has_no_results_and_every_item_is_missing_from_them(start_gateway, tmp_path, real_transcripts):
    gateway = start_gateway(expire_after_seconds=0.5, seconds_per_line=2, workers=1)
    api = api_at(gateway)
    shard = gemini_shard(tmp_path / "shard", real_transcripts, 3)
    record = api.submit(shard, records=RecordStore(tmp_path / "work"), options=submit_options())
    expired = wait_finished(api, gateway, record.batch_id)
    assert expired.status == "expired"
    files = api.download(expired, tmp_path / "results.jsonl")
    assert files.output is None, "an expired Gemini job keeps no results"
    ran = result_keys(files.output) if files.output is not None else []
    assert len(ran) < 3, "an expired job ran not every request"
    assert expired.missing_reason().startswith("batch_expired:"), "the items it did not run are retried"


def test_a_failed_job_reports_the_api_s_reason(start_gateway, tmp_path, real_transcripts):
    """Two jobs made before either is validated each fit the model's enqueued-token limit alone; the second fails
    when validated beside the first, and the library reads why from the job's raw ``error``."""
    shards = [gemini_shard(tmp_path / f"shard{n}", real_transcripts[n * 2 :], 2) for n in range(2)]
    one_job = max(
        sum(prompt_tokens(json.loads(line)["request"]) for line in shard.path.read_text().splitlines())
        for shard in shards
    )
    gateway = start_gateway(enqueued_token_limit=one_job, validating_stall_seconds=1.0, workers=1)
    api = api_at(gateway)
    records = RecordStore(tmp_path / "work")
    first, second = (api.submit(shard, records=records, options=submit_options()) for shard in shards)
    failed = wait_finished(api, gateway, second.batch_id)
    assert failed.status == "failed"
    [problem] = failed.errors
    assert "enqueued tokens" in (problem.message or "")
    assert failed.missing_reason() == "batch_failed: the batch failed validation (RESOURCE_EXHAUSTED)"
    files = api.download(failed, tmp_path / "results.jsonl")
    assert files.output is None
    assert wait_finished(api, gateway, first.batch_id).status == "completed"


def test_an_unknown_job_is_said_to_be_unknown(start_gateway):
    from tagging_assets.core.errors import UnknownBatchError

    api = api_at(start_gateway())
    with pytest.raises(UnknownBatchError, match="not known at Gemini's Batch API"):
        api.status("batches/nosuchjob")
