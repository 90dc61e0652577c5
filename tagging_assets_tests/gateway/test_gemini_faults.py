"""A Gemini job meets the gateway's faults as the other protocols' batches do, in Gemini's terms: an expired job
has no results, a cancelled one keeps what finished, failed lines are error statuses, a lost create leaves the
job made, and a restarted gateway still knows its jobs and files."""

from __future__ import annotations

import json
import time

import httpx
import httpx2
import pytest
from google.genai import errors

from tagging_assets.core.protocol import MAX_BYTES_INLINE_GEMINI_BATCH, MAX_BYTES_PER_GEMINI_FILE
from tagging_assets.gateway.tokens import prompt_tokens
from tagging_assets_tests.gateway.test_gemini_batches import (
    KEY,
    TEXTS,
    ended,
    file_line,
    inline_requests,
    upload_lines,
)


def results(client, job) -> list[dict]:
    return [json.loads(line) for line in client.files.download(file=job.dest.file_name).splitlines()]


def test_an_expired_job_has_no_results(start_gateway):
    gateway = start_gateway(KEY, expire_after_seconds=0.3, seconds_per_line=0.2, workers=1)
    client = gateway.gemini_client()
    job = client.batches.create(model="gemini-2.5-flash", src=inline_requests(TEXTS * 3))
    expired = ended(client, job.name)
    assert expired.state.name == "JOB_STATE_EXPIRED" and expired.dest is None
    assert gateway.wait_until(job.name)["status"] == "expired"


def test_a_cancelled_job_keeps_what_finished_in_input_order(start_gateway):
    gateway = start_gateway(KEY, seconds_per_line=0.3, workers=1)
    client = gateway.gemini_client()
    lines = [file_line(f"k{n}", TEXTS[n % 3]) for n in range(8)]
    job = client.batches.create(model="gemini-2.5-flash", src=upload_lines(client, lines).name)
    deadline = time.monotonic() + 60
    while gateway.batches()[job.name]["completed"] < 1:
        assert time.monotonic() < deadline, "no line finished"
        time.sleep(0.05)
    client.batches.cancel(name=job.name)
    cancelled = ended(client, job.name)
    assert cancelled.state.name == "JOB_STATE_CANCELLED"
    keys = [line["key"] for line in results(client, cancelled)]
    assert keys and len(keys) < 8 and keys == [f"k{n}" for n in range(len(keys))]
    with pytest.raises(errors.ClientError) as again:
        client.batches.cancel(name=job.name)
    assert again.value.status == "FAILED_PRECONDITION"


def test_failed_lines_are_error_statuses_and_the_rest_succeed(start_gateway):
    gateway = start_gateway(KEY, line_error_rate=0.5, line_error_status=503)
    client = gateway.gemini_client()
    lines = [file_line(f"k{n}", TEXTS[n % 3]) for n in range(12)]
    job = ended(client, client.batches.create(model="gemini-2.5-flash", src=upload_lines(client, lines).name).name)
    found = results(client, job)
    assert [line["key"] for line in found] == [f"k{n}" for n in range(12)]
    failed = [line for line in found if "error" in line]
    assert failed and len(failed) < 12
    assert {line["error"]["status"] for line in failed} == {"UNAVAILABLE"}
    assert {line["error"]["code"] for line in failed} == {503}
    counts = gateway.batches()[job.name]
    assert (counts["completed"], counts["failed"]) == (12 - len(failed), len(failed))


def test_messy_tags_reach_gemini_replies(start_gateway):
    gateway = start_gateway(KEY, messy_tags_rate=1.0)
    client = gateway.gemini_client()
    job = ended(client, client.batches.create(model="gemini-2.5-flash", src=inline_requests()).name)
    tags = json.loads(job.dest.inlined_responses[0].response.text)["tags"]
    assert any(tag != tag.lower() for tag in tags) and len(tags) >= 5


def test_a_lost_create_leaves_the_job_made(start_gateway):
    gateway = start_gateway(KEY, disconnect_every=1)
    client = gateway.gemini_client()
    with pytest.raises(httpx2.HTTPError):
        client.batches.create(model="gemini-2.5-flash", src=inline_requests(), config={"display_name": "lost"})
    made = [name for name in gateway.batches() if name.startswith("batches/")]
    assert len(made) == 1
    assert gateway.wait_until(made[0])["status"] == "completed"


def test_a_restarted_gateway_still_knows_its_jobs_and_files(tmp_path, tagger_pools):
    from tagging_assets_tests.support import InProcessGateway

    with InProcessGateway(tmp_path, {}, KEY, tagger_pools) as first:
        client = first.gemini_client()
        uploaded = upload_lines(client, [file_line("k0", TEXTS[0])])
        name = ended(client, client.batches.create(model="gemini-2.5-flash", src=uploaded.name).name).name
    with InProcessGateway(tmp_path, {}, KEY, tagger_pools) as second:
        client = second.gemini_client()
        job = client.batches.get(name=name)
        assert job.state.name == "JOB_STATE_SUCCEEDED"
        assert [line["key"] for line in results(client, job)] == ["k0"]
        assert client.files.get(name=uploaded.name).size_bytes == uploaded.size_bytes


def test_a_job_that_fails_validation_says_why_in_its_error(start_gateway):
    """Two jobs created before either is validated each fit the enqueued-token limit; the second to be
    validated does not fit beside the first, and fails saying so."""
    lines = [file_line(f"k{n}", text) for n, text in enumerate(TEXTS)]
    one_job = sum(prompt_tokens(line["request"]) for line in lines)
    gateway = start_gateway(
        KEY, enqueued_token_limit=one_job, validating_stall_seconds=1.0, seconds_per_line=0.5, workers=1
    )
    client = gateway.gemini_client()
    inputs = [upload_lines(client, lines).name for _ in range(2)]
    first, second = (client.batches.create(model="gemini-2.5-flash", src=name) for name in inputs)
    job = ended(client, second.name)
    assert job.state.name == "JOB_STATE_FAILED" and job.dest is None
    raw = httpx.get(f"http://127.0.0.1:{gateway.port}/v1/{job.name}", headers={"x-goog-api-key": KEY}).json()
    assert raw["done"] is True and raw["error"]["code"] == 8 and "Enqueued token limit" in raw["error"]["message"]
    assert raw["metadata"]["batchStats"]["requestCount"] == "3"
    assert ended(client, first.name).state.name == "JOB_STATE_SUCCEEDED"


def test_too_many_requests_or_bytes_are_refused_at_create(start_gateway):
    gateway = start_gateway(KEY, max_lines_per_batch=2)
    client = gateway.gemini_client()
    with pytest.raises(errors.ClientError) as many:
        client.batches.create(model="gemini-2.5-flash", src=inline_requests())
    assert many.value.code == 400 and "over the limit of 2" in many.value.message
    huge = "word " * (MAX_BYTES_INLINE_GEMINI_BATCH // 5 + 10)
    with pytest.raises(errors.ClientError) as large:
        client.batches.create(model="gemini-2.5-flash", src=inline_requests([huge]))
    assert large.value.status == "INVALID_ARGUMENT" and "payload size exceeds the limit" in large.value.message
    assert not [name for name in gateway.batches() if name.startswith("batches/")]


def test_an_upload_over_the_file_limit_is_refused(start_gateway):
    gateway = start_gateway(KEY)
    start = httpx.post(
        f"http://127.0.0.1:{gateway.port}/upload/v1beta/files",
        headers={
            "x-goog-api-key": KEY,
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(MAX_BYTES_PER_GEMINI_FILE + 1),
        },
        json={"file": {"displayName": "too big"}},
    )
    assert start.status_code == 400 and start.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "x-goog-upload-url" not in start.headers


def test_upload_bytes_need_the_upload_url_not_a_key(start_gateway):
    gateway = start_gateway(KEY)
    client = gateway.gemini_client()
    uploaded = upload_lines(client, [file_line("k0", TEXTS[0])])
    assert uploaded.name.startswith("files/")
    guessed = httpx.post(
        f"http://127.0.0.1:{gateway.port}/upload/v1/files?upload_id=guessed",
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        content=b"{}",
    )
    assert guessed.status_code == 404 and guessed.json()["error"]["status"] == "NOT_FOUND"


def test_an_upload_shorter_than_its_start_declared_is_refused(start_gateway):
    gateway = start_gateway(KEY)
    start = httpx.post(
        f"http://127.0.0.1:{gateway.port}/upload/v1/files",
        headers={
            "x-goog-api-key": KEY,
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": "100",
        },
        json={"file": {"displayName": "short"}},
    )
    finish = httpx.post(
        start.headers["x-goog-upload-url"],
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        content=b"{}",
    )
    assert finish.status_code == 400 and "declared 100" in finish.json()["error"]["message"]
