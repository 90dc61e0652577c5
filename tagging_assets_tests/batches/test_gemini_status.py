"""A Gemini batch job's raw JSON read in the library's terms: states, counts, errors and inline results."""

from __future__ import annotations

import json

import pytest

from tagging_assets.batches.providers.gemini_status import (
    display_name,
    display_name_of,
    inline_responses,
    job_status,
    result_line,
    state_of,
)
from tagging_assets.core.contracts import BatchStatus
from tagging_assets.core.executor import HttpAnswer, Limits, RetryPolicy, Verdict
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.core.realtime_calls import Timing


def operation(state: str, **metadata: object) -> dict[str, object]:
    return {
        "name": "batches/abc123",
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": "models/gemini-2.5-flash-lite",
            "displayName": display_name_of("k" * 64),
            "createTime": "2026-12-06T20:00:00.123456789Z",
            "state": state,
            **metadata,
        },
    }


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("JOB_STATE_PENDING", "validating"),
        ("BATCH_STATE_PENDING", "validating"),
        ("JOB_STATE_RUNNING", "in_progress"),
        ("BATCH_STATE_RUNNING", "in_progress"),
        ("JOB_STATE_SUCCEEDED", "completed"),
        ("BATCH_STATE_SUCCEEDED", "completed"),
        ("JOB_STATE_FAILED", "failed"),
        ("JOB_STATE_CANCELLED", "cancelled"),
        ("BATCH_STATE_CANCELLED", "cancelled"),
        ("JOB_STATE_EXPIRED", "expired"),
        ("BATCH_STATE_EXPIRED", "expired"),
        ("JOB_STATE_SOMETHING_NEW", "in_progress"),
    ],
)
def test_each_state_either_naming_reads_as_the_library_s_status(state, status):
    assert job_status(operation(state)).status == status


def test_counts_come_from_batch_stats_written_as_proto_json_strings():
    stats = {"requestCount": "10", "successfulRequestCount": "6", "failedRequestCount": "1", "pendingRequestCount": "3"}
    status = job_status(operation("BATCH_STATE_RUNNING", batchStats=stats))
    assert (status.total, status.completed, status.failed, status.progress_pct) == (10, 6, 1, 70.0)
    assert status.batch_id == "batches/abc123"
    assert status.model == "gemini-2.5-flash-lite"
    assert status.endpoint == GENERATE_CONTENT
    assert status.created_at == 1796587200


def test_a_job_without_stats_reads_as_nothing_done_yet():
    status = job_status(operation("JOB_STATE_PENDING"))
    assert (status.total, status.completed, status.failed, status.progress_pct) == (0, 0, 0, 0.0)
    assert status.finished_at is None and status.output_file_id is None


def test_a_finished_job_names_its_responses_file_and_when_it_ended():
    status = job_status(
        operation(
            "JOB_STATE_SUCCEEDED", endTime="2026-12-06T21:00:00Z", output={"responsesFile": "files/batch-results-1"}
        )
    )
    assert status.finished
    assert status.output_file_id == "files/batch-results-1"
    assert status.finished_at == 1796590800


def test_a_failed_job_s_error_is_its_problem_and_every_missing_item_fails_with_it():
    failed = operation("JOB_STATE_FAILED") | {
        "error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Unsupported model for batch"}
    }
    status = job_status(failed)
    assert status.status == "failed"
    assert [(problem.code, problem.message) for problem in status.errors] == [
        ("INVALID_ARGUMENT", "Unsupported model for batch")
    ]
    assert status.missing_reason() == "batch_failed: the batch failed validation (INVALID_ARGUMENT)"


@pytest.mark.parametrize(("number", "name"), [(3, "INVALID_ARGUMENT"), (13, "INTERNAL"), (42, "42")])
def test_an_operation_s_numeric_rpc_code_is_named(number, name):
    failed = operation("JOB_STATE_FAILED") | {"error": {"code": number, "message": "why"}}
    [problem] = job_status(failed).errors
    assert (problem.code, problem.message) == (name, "why")


def test_an_expired_job_is_finished_and_its_items_are_missing_from_its_results():
    status = job_status(operation("JOB_STATE_EXPIRED"))
    assert status.finished
    assert status.missing_reason().startswith("batch_expired: ")


def test_the_display_name_carries_the_submission_key():
    job = operation("JOB_STATE_RUNNING")
    assert display_name(job) == "tagging-assets:" + "k" * 64
    assert state_of(job) == "RUNNING"
    assert state_of({"name": "batches/x"}) == ""


def test_inline_responses_become_result_lines_keyed_as_the_file_s_are():
    response = {"candidates": [{"content": {"parts": [{"text": "{}"}]}}], "usageMetadata": {"totalTokenCount": 3}}
    error = {"code": 400, "message": "bad request", "status": "INVALID_ARGUMENT"}
    job = operation(
        "JOB_STATE_SUCCEEDED",
        output={
            "inlinedResponses": {
                "inlinedResponses": [
                    {"response": response, "metadata": {"key": "a-1"}},
                    {"error": error, "metadata": {"key": "b-2"}},
                ]
            }
        },
    )
    lines = [result_line(inline) for inline in inline_responses(job)]
    assert lines == [{"key": "a-1", "response": response}, {"key": "b-2", "error": error}]
    assert json.loads(json.dumps(lines)) == lines


def test_a_job_with_no_output_has_no_inline_responses():
    assert inline_responses(operation("JOB_STATE_EXPIRED")) == []


def test_a_status_round_trips_as_the_library_stores_it():
    status = job_status(operation("JOB_STATE_RUNNING", batchStats={"requestCount": "2"}))
    assert BatchStatus.model_validate_json(status.model_dump_json()) == status


@pytest.mark.parametrize(("delay", "seconds"), [("2s", 2.0), ("0.5s", 0.5), ("17s", 17.0)])
def test_gemini_s_429_waits_the_retry_delay_its_body_asks(delay, seconds):
    body = {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "Resource has been exhausted (e.g. check quota).",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }
    answer = HttpAnswer(status_code=429, body=json.dumps(body).encode(), headers={})
    policy = RetryPolicy(Limits(max_retries=2), Timing(sleep=lambda seconds: None))
    decision = policy.decide(answer, retries=0, rate_limit_retries=0)
    assert decision.verdict is Verdict.RETRY_RATE_LIMITED
    assert decision.wait_seconds == seconds
