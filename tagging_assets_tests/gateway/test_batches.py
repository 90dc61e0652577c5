"""The batch lifecycle as OpenAI's API runs it, through the openai SDK."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types import Batch

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets_tests.support import jsonl, read_lines, request_line, submit, wait_for

TEXT = "Retrieval augmented generation grounds answers in documents. Retrieval augmented generation needs search."


def test_a_batch_runs_to_completed_with_every_field(shared_gateway, real_transcripts):
    client = shared_gateway.client()
    items = real_transcripts[:12]
    lines = [request_line(f"youtube:{item['video_id']}", item["transcript"]) for item in items]
    created = submit(client, jsonl(lines), metadata={"submission_id": "sub-1", "input_sha256": "abc"})
    assert created.status == "validating"
    assert created.metadata == {"submission_id": "sub-1", "input_sha256": "abc"}
    assert created.request_counts.total == 0

    batch = wait_for(client, created.id)
    assert batch.status == "completed"
    assert batch.model == "gpt-4o-mini"
    assert batch.request_counts.model_dump() == {"total": 12, "completed": 12, "failed": 0}
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    assert batch.expires_at == batch.created_at + 24 * 3600
    assert batch.error_file_id is None
    assert (batch.failed_at, batch.expired_at, batch.cancelling_at, batch.cancelled_at) == (None,) * 4

    results = read_lines(client, batch.output_file_id)
    assert sorted(line["custom_id"] for line in results) == sorted(line["custom_id"] for line in lines)
    for line in results:
        assert line["id"].startswith("batch_req_")
        assert line["error"] is None
        assert line["response"]["status_code"] == 200
        body = line["response"]["body"]
        TaggingOutput.model_validate_json(body["choices"][0]["message"]["content"])
    assert batch.usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in results)
    assert batch.usage.output_tokens == sum(line["response"]["body"]["usage"]["completion_tokens"] for line in results)
    assert batch.usage.total_tokens == batch.usage.input_tokens + batch.usage.output_tokens
    output_file = client.files.retrieve(batch.output_file_id)
    assert output_file.purpose == "batch_output"


def test_request_counts_progress_while_it_runs(start_gateway):
    client = start_gateway(seconds_per_line=0.02, workers=1).client()
    batch = submit(client, jsonl([request_line(f"youtube:{n}", TEXT) for n in range(200)]))
    seen = set()
    while batch.status not in ("completed", "failed"):
        batch = client.batches.retrieve(batch.id)
        if batch.status == "in_progress":
            seen.add(batch.request_counts.completed)
    assert batch.status == "completed"
    assert len([count for count in seen if 0 < count < 200]) >= 2, seen


@pytest.mark.parametrize(
    ("lines", "code", "line_number"),
    [
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"\n',
            "invalid_json_line",
            1,
        ),
        (jsonl([request_line("same", TEXT), request_line("same", TEXT)]), "duplicate_custom_id", 2),
        (jsonl([request_line("a", TEXT), request_line("b", TEXT, model="gpt-4o")]), "model_mismatch", 2),
        (jsonl([request_line("a", TEXT), {**request_line("b", TEXT), "url": "/v1/embeddings"}]), "url_mismatch", 2),
        (b"", "empty_file", None),
        (b"\n\n", "empty_file", None),
    ],
    ids=["invalid-json", "duplicate-custom-id", "model-mismatch", "url-mismatch", "empty", "blank-lines"],
)
def test_validation_failures_end_failed_with_errors(shared_gateway, lines, code, line_number):
    client = shared_gateway.client()
    batch = wait_for(client, submit(client, lines).id)
    assert batch.status == "failed"
    assert batch.failed_at is not None
    assert batch.errors is not None and batch.errors.object == "list"
    error = batch.errors.data[0]
    assert (error.code, error.line) == (code, line_number)
    assert error.message
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.in_progress_at is None


def test_too_many_tasks_and_too_large_a_file_fail_validation(start_gateway):
    client = start_gateway(max_lines_per_batch=3, max_input_bytes=5000).client()
    too_many = wait_for(client, submit(client, jsonl([request_line(f"n{n}", "short") for n in range(4)])).id)
    assert [error.code for error in too_many.errors.data] == ["too_many_tasks"]
    too_large = wait_for(client, submit(client, jsonl([request_line("big", "word " * 1500)])).id)
    assert [error.code for error in too_large.errors.data] == ["file_too_large"]


def test_the_enqueued_token_budget_fails_a_batch_that_would_exceed_it(start_gateway):
    client = start_gateway(enqueued_token_limit=2000, seconds_per_line=0.5, workers=1).client()
    first = submit(client, jsonl([request_line(f"a{n}", "word " * 200) for n in range(4)]))
    wait_for(client, first.id, ("in_progress",))
    second = wait_for(client, submit(client, jsonl([request_line(f"b{n}", "word " * 200) for n in range(4)])).id)
    assert second.status == "failed"
    assert second.errors.data[0].code == "token_limit_exceeded"
    assert "Enqueued token limit reached for gpt-4o-mini" in second.errors.data[0].message
    assert wait_for(client, first.id).status == "completed"
    third = wait_for(client, submit(client, jsonl([request_line(f"c{n}", "word " * 200) for n in range(4)])).id)
    assert third.status == "completed", third.errors


def test_cancel_keeps_the_finished_lines(start_gateway):
    client = start_gateway(seconds_per_line=0.05, workers=1).client()
    lines = [request_line(f"youtube:{n}", TEXT) for n in range(100)]
    batch = submit(client, jsonl(lines))
    while (batch := client.batches.retrieve(batch.id)).request_counts.completed < 20:
        assert batch.status in ("validating", "in_progress")
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at is not None
    cancelled = wait_for(client, batch.id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    finished = read_lines(client, cancelled.output_file_id)
    assert 20 <= len(finished) < 100
    assert len(finished) == cancelled.request_counts.completed
    assert len({line["custom_id"] for line in finished}) == len(finished)
    with pytest.raises(openai.ConflictError) as error:
        client.with_options(max_retries=0).batches.cancel(batch.id)
    assert error.value.body["message"] == "Cannot cancel a batch with status 'cancelled'."


def test_expiry_keeps_finished_lines_and_marks_the_rest_batch_expired(start_gateway):
    client = start_gateway(seconds_per_line=0.05, workers=1, expire_after_seconds=1.5).client()
    lines = [request_line(f"youtube:{n}", TEXT) for n in range(200)]
    batch = wait_for(client, submit(client, jsonl(lines)).id)
    assert batch.status == "expired"
    assert batch.expired_at is not None
    finished = read_lines(client, batch.output_file_id)
    expired = read_lines(client, batch.error_file_id)
    assert finished and expired
    assert {line["custom_id"] for line in finished} | {line["custom_id"] for line in expired} == {
        line["custom_id"] for line in lines
    }
    assert len(finished) + len(expired) == 200
    assert all(line["response"] is None and line["error"]["code"] == "batch_expired" for line in expired)
    assert batch.request_counts.model_dump() == {"total": 200, "completed": len(finished), "failed": len(expired)}


def test_a_batch_where_every_line_fails_has_no_output_file(start_gateway):
    client = start_gateway(line_error_rate=1.0, line_error_status=500).client()
    batch = wait_for(client, submit(client, jsonl([request_line(f"n{n}", TEXT) for n in range(5)])).id)
    assert batch.status == "completed"
    assert batch.output_file_id is None
    errors = read_lines(client, batch.error_file_id)
    assert len(errors) == 5
    assert all(line["response"]["status_code"] == 500 and "error" in line["response"]["body"] for line in errors)
    assert batch.usage.total_tokens == 0


def test_a_line_with_a_bad_body_fails_alone_with_a_400(shared_gateway):
    client = shared_gateway.client()
    bad = {**request_line("bad", TEXT), "body": {"model": "gpt-4o-mini"}}
    batch = wait_for(client, submit(client, jsonl([request_line("good", TEXT), bad])).id)
    assert batch.status == "completed"
    assert batch.request_counts.model_dump() == {"total": 2, "completed": 1, "failed": 1}
    [error] = read_lines(client, batch.error_file_id)
    assert error["custom_id"] == "bad"
    assert error["response"]["status_code"] == 400
    assert error["response"]["body"]["error"]["param"] == "messages"


def test_unknown_ids_are_404s_in_openai_shape(shared_gateway):
    client = shared_gateway.client()
    with pytest.raises(openai.NotFoundError) as error:
        client.batches.retrieve("batch_nope")
    assert error.value.status_code == 404
    assert error.value.body == {
        "message": "No batch found with id 'batch_nope'.",
        "type": "invalid_request_error",
        "param": "batch_id",
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        client.batches.cancel("batch_nope")
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"completion_window": "48h"}, "completion_window"),
        ({"endpoint": "/v1/embeddings"}, "endpoint"),
        ({"metadata": {f"k{n}": "v" for n in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
    ],
)
def test_bad_create_parameters_are_400s_naming_the_parameter(shared_gateway, options, param):
    client = shared_gateway.client()
    uploaded = client.files.create(file=("input.jsonl", jsonl([request_line("a", TEXT)])), purpose="batch")
    arguments = {"input_file_id": uploaded.id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    with pytest.raises(openai.BadRequestError) as error:
        client.batches.create(**{**arguments, **options})
    assert error.value.body["param"] == param


def test_list_pages_newest_first_with_a_cursor(shared_gateway):
    client = shared_gateway.client()
    ids = [submit(client, jsonl([request_line("a", TEXT)])).id for _ in range(5)]
    first_page = client.batches.list(limit=2)
    assert [batch.id for batch in first_page.data] == ids[::-1][:2]
    assert first_page.has_more is True
    assert first_page.first_id == ids[-1] and first_page.last_id == ids[-2]
    walked = [batch.id for batch in client.batches.list(limit=2)]
    assert walked[:5] == ids[::-1]
    assert len(walked) == len(set(walked))
    assert all(isinstance(batch, Batch) for batch in first_page.data)


def test_several_batches_in_flight_each_complete_with_their_own_lines(shared_gateway):
    client = shared_gateway.client()
    batches = {submit(client, jsonl([request_line(f"b{b}-{n}", TEXT) for n in range(30)])).id: b for b in range(3)}
    for batch_id, number in batches.items():
        batch = wait_for(client, batch_id)
        custom_ids = {line["custom_id"] for line in read_lines(client, batch.output_file_id)}
        assert custom_ids == {f"b{number}-{n}" for n in range(30)}


def test_output_lines_parse_as_json_with_the_wire_fields(shared_gateway):
    client = shared_gateway.client()
    batch = wait_for(client, submit(client, jsonl([request_line("one", TEXT)])).id)
    raw = client.files.content(batch.output_file_id).text
    [line] = [json.loads(text) for text in raw.splitlines()]
    assert set(line) == {"id", "custom_id", "response", "error"}
    assert set(line["response"]) == {"status_code", "request_id", "body"}
