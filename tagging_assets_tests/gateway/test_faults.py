"""Injected faults: each one happens as configured, and the SDK sees it as it would see OpenAI's."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets_tests.support import jsonl, read_lines, request_line, submit, wait_for

TEXT = "Speculative decoding speeds up language model inference. Speculative decoding uses a draft model."


def _contents(client, batch):
    return {
        line["custom_id"]: line["response"]["body"]["choices"][0]["message"]
        for line in read_lines(client, batch.output_file_id)
    }


def test_a_fraction_of_lines_fail_with_an_http_error_body(start_gateway):
    client = start_gateway(line_error_rate=0.3, line_error_status=503).client()
    batch = wait_for(client, submit(client, jsonl([request_line(f"n{n}", TEXT) for n in range(100)])).id)
    errors = read_lines(client, batch.error_file_id)
    assert 10 < len(errors) < 50
    assert batch.request_counts.failed == len(errors)
    assert batch.request_counts.completed == 100 - len(errors)
    for line in errors:
        assert line["error"] is None
        assert line["response"]["status_code"] == 503
        assert line["response"]["body"]["error"]["type"] == "server_error"


def test_the_same_lines_fail_on_every_run(start_gateway):
    gateway = start_gateway(line_error_rate=0.5, line_error_status=400)
    client = gateway.client()
    content = jsonl([request_line(f"n{n}", TEXT) for n in range(40)])
    failed = [
        {line["custom_id"] for line in read_lines(client, wait_for(client, submit(client, content).id).error_file_id)}
        for _ in range(2)
    ]
    assert failed[0] == failed[1]
    assert failed[0]


def test_replies_that_are_not_json_or_break_the_schema_or_refuse(start_gateway):
    client = start_gateway(invalid_json_rate=0.2, schema_violation_rate=0.2, refusal_rate=0.2).client()
    batch = wait_for(client, submit(client, jsonl([request_line(f"n{n}", TEXT) for n in range(100)])).id)
    assert batch.request_counts.completed == 100, "bad replies are still HTTP 200 lines"
    kinds = {"valid": 0, "not_json": 0, "schema": 0, "refusal": 0}
    for message in _contents(client, batch).values():
        if message["refusal"]:
            assert message["content"] is None
            kinds["refusal"] += 1
            continue
        try:
            reply = json.loads(message["content"])
        except ValueError:
            kinds["not_json"] += 1
            continue
        try:
            TaggingOutput.model_validate(reply)
            kinds["valid"] += 1
        except ValueError:
            kinds["schema"] += 1
    assert all(count > 0 for count in kinds.values()), kinds


def test_max_tokens_truncates_the_reply_with_finish_reason_length(shared_gateway):
    client = shared_gateway.client()
    batch = wait_for(client, submit(client, jsonl([request_line("short", TEXT, max_tokens=8)])).id)
    [line] = read_lines(client, batch.output_file_id)
    choice = line["response"]["body"]["choices"][0]
    assert choice["finish_reason"] == "length"
    assert line["response"]["body"]["usage"]["completion_tokens"] == 8
    with pytest.raises(ValueError):
        json.loads(choice["message"]["content"])


def test_429s_carry_retry_after_and_the_sdk_gets_through(start_gateway):
    gateway = start_gateway(rate_limit_every=2, retry_after_seconds=0.2)
    client = gateway.client(max_retries=2)
    for _ in range(4):
        assert client.models.list().data
    raw = gateway.client(max_retries=0).with_raw_response
    statuses = []
    for _ in range(2):
        try:
            statuses.append(raw.models.list().status_code)
        except openai.RateLimitError as error:
            statuses.append(error.status_code)
            assert error.response.headers["retry-after"] == "0.2"
            assert error.body["code"] == "rate_limit_exceeded"
    assert sorted(statuses) == [200, 429]


def test_429s_past_the_retries_raise_rate_limit_error(start_gateway):
    client = start_gateway(rate_limit_every=1, retry_after_seconds=0.1).client(max_retries=1)
    with pytest.raises(openai.RateLimitError):
        client.batches.list()


def test_500s_on_the_api_are_retried_by_the_sdk(start_gateway):
    gateway = start_gateway(server_error_every=2)
    client = gateway.client(max_retries=2)
    uploaded = client.files.create(file=("input.jsonl", jsonl([request_line("a", TEXT)])), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert wait_for(client, batch.id).status == "completed"
    with pytest.raises(openai.InternalServerError):
        start_gateway(server_error_every=1).client(max_retries=0).batches.list()


def test_a_batch_can_stall_in_validating_and_in_finalizing(start_gateway):
    client = start_gateway(validating_stall_seconds=1.0, finalizing_stall_seconds=1.0).client()
    batch = submit(client, jsonl([request_line("a", TEXT)]))
    time.sleep(0.5)
    assert client.batches.retrieve(batch.id).status == "validating"
    finalizing = wait_for(client, batch.id, ("finalizing",))
    assert finalizing.finalizing_at is not None
    time.sleep(0.3)
    assert client.batches.retrieve(batch.id).status == "finalizing"
    assert wait_for(client, batch.id).status == "completed"
