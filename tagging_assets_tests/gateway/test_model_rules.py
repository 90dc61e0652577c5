"""OpenAI's per-model rules as the gateway keeps them, seen through the real SDK: what reasoning models refuse, what
their reasoning costs, the Responses endpoint, dated snapshots, and files that expire."""

from __future__ import annotations

import time

import openai
import pytest

from tagging_assets.gateway.store import GatewayStore
from tagging_assets.wire import tagging_text_format
from tagging_assets_tests.support import jsonl, read_lines, request_line, submit, wait_for

TEXT = "Vector databases index embeddings with HNSW graphs, trading recall for query latency."


def chat(client: openai.OpenAI, model: str, **options):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": TEXT}], **options)


@pytest.mark.parametrize(
    ("model", "options", "param", "code", "message"),
    [
        (
            "gpt-5-mini",
            {"max_tokens": 300},
            "max_tokens",
            "unsupported_parameter",
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
        ),
        (
            "gpt-5-mini",
            {"temperature": 0.2},
            "temperature",
            "unsupported_value",
            "Unsupported value: 'temperature' does not support 0.2 with this model. "
            "Only the default (1) value is supported.",
        ),
        ("o4-mini", {"temperature": 0.2}, "temperature", "unsupported_value", "Unsupported value: 'temperature'"),
        ("gpt-5.1", {"temperature": 0.2, "reasoning_effort": "low"}, "temperature", "unsupported_value", ""),
        (
            "gpt-5-mini",
            {"reasoning_effort": "none"},
            "reasoning_effort",
            "unsupported_value",
            "Unsupported value: 'reasoning_effort' does not support 'none' with this model.",
        ),
        ("gpt-4o-mini", {"reasoning_effort": "low"}, "reasoning_effort", "unsupported_parameter", ""),
    ],
)
def test_reasoning_models_refuse_what_openai_refuses_with_its_400(shared_gateway, model, options, param, code, message):
    with pytest.raises(openai.BadRequestError) as refused:
        chat(shared_gateway.client(max_retries=0), model, **options)
    error = refused.value.body
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert error["message"].startswith(message)


def test_what_reasoning_models_accept_and_what_their_reasoning_costs(shared_gateway):
    client = shared_gateway.client(max_retries=0)
    reply = chat(client, "gpt-5.1", temperature=0.2, max_completion_tokens=300)
    assert reply.choices[0].finish_reason == "stop" and reply.model == "gpt-5.1-2025-11-13"
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0, "gpt-5.1 defaults to effort none"
    reasoned = chat(client, "gpt-5-mini", max_completion_tokens=2_000)
    assert reasoned.model == "gpt-5-mini-2025-08-07", "replies name a dated snapshot"
    spent = reasoned.usage.completion_tokens_details.reasoning_tokens
    assert spent > 0 and reasoned.usage.completion_tokens > spent and reasoned.choices[0].message.content
    starved = chat(client, "gpt-5-mini", max_completion_tokens=300)
    assert starved.choices[0].finish_reason == "length" and starved.choices[0].message.content == ""
    assert starved.usage.completion_tokens == starved.usage.completion_tokens_details.reasoning_tokens == 300
    with pytest.raises(openai.NotFoundError) as unknown:
        chat(client, "gpt-9-imaginary")
    assert unknown.value.body["code"] == "model_not_found"


def test_a_batch_of_last_years_requests_fails_line_by_line_on_a_reasoning_model(shared_gateway):
    """The lines the pipeline used to write: ``max_tokens`` and ``temperature: 0.2``. On gpt-5-mini every line is
    a 400 in the error file, with OpenAI's body; none is tagged."""
    client = shared_gateway.client()
    lines = [request_line(f"v{n}", TEXT, model="gpt-5-mini", max_tokens=300, temperature=0.2) for n in range(3)]
    batch = wait_for(client, submit(client, jsonl(lines)).id)
    assert batch.status == "completed" and batch.request_counts.failed == 3 and batch.output_file_id is None
    for line in read_lines(client, batch.error_file_id):
        assert line["response"]["status_code"] == 400
        assert line["response"]["body"]["error"]["param"] == "max_tokens"


def test_the_responses_endpoint_realtime_and_in_a_batch(shared_gateway):
    client = shared_gateway.client(max_retries=0)
    reply = client.responses.create(
        model="gpt-5-mini",
        instructions="Tag this transcript.",
        input=[{"role": "user", "content": TEXT}],
        text={"format": tagging_text_format()},
        reasoning={"effort": "minimal"},
        max_output_tokens=1_300,
    )
    assert reply.status == "completed" and reply.model == "gpt-5-mini-2025-08-07"
    assert [item.type for item in reply.output] == ["reasoning", "message"], "the message is not output[0]"
    assert '"tags"' in reply.output_text and reply.usage.output_tokens_details.reasoning_tokens > 0
    starved = client.responses.create(model="gpt-5-mini", input=TEXT, max_output_tokens=64)
    assert starved.status == "incomplete" and starved.incomplete_details.reason == "max_output_tokens"
    with pytest.raises(openai.BadRequestError) as moved:
        client.responses.create(model="gpt-5-mini", input=TEXT, extra_body={"reasoning_effort": "low"})
    assert "has moved to 'reasoning.effort'" in moved.value.body["message"]

    body = {
        "model": "gpt-5.1",
        "instructions": "Tag this transcript.",
        "input": [{"role": "user", "content": TEXT}],
        "text": {"format": tagging_text_format()},
        "max_output_tokens": 300,
    }
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/responses", "body": body}
    batch = wait_for(client, submit(client, jsonl([line]), endpoint="/v1/responses").id)
    assert batch.status == "completed" and batch.request_counts.completed == 1
    [result] = read_lines(client, batch.output_file_id)
    assert result["response"]["body"]["object"] == "response"
    assert result["response"]["body"]["output"][-1]["content"][0]["type"] == "output_text"
    chat_line = request_line("c1", TEXT)
    mismatch = wait_for(client, submit(client, jsonl([chat_line]), endpoint="/v1/responses").id)
    assert mismatch.status == "failed" and mismatch.errors.data[0].code == "url_mismatch"


def test_uploads_and_batch_output_carry_their_expiry(shared_gateway):
    client = shared_gateway.client()
    two_hours = {"anchor": "created_at", "seconds": 7_200}
    uploaded = client.files.create(
        file=("in.jsonl", jsonl([request_line("e1", TEXT)])), purpose="batch", expires_after=two_hours
    )
    assert uploaded.expires_at == uploaded.created_at + 7_200
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h",
        output_expires_after=two_hours,
    )  # fmt: skip
    done = wait_for(client, batch.id)
    output = client.files.retrieve(done.output_file_id)
    assert output.expires_at == output.created_at + 7_200
    with pytest.raises(openai.BadRequestError) as too_long:
        client.files.create(
            file=("x.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 40 * 86_400}
        )
    assert too_long.value.body["param"] == "expires_after"


def test_an_expired_file_is_gone(tmp_path, monkeypatch):
    store = GatewayStore(tmp_path)
    with (tmp_path / "in.jsonl").open("wb+") as source:
        source.write(b"{}\n")
        source.seek(0)
        uploaded = store.add_file(source, "in.jsonl", "batch", 3_600)
    assert store.get_file(uploaded["id"]) is not None
    later = time.time() + 3_601
    monkeypatch.setattr("tagging_assets.gateway.store.time.time", lambda: later)
    assert store.get_file(uploaded["id"]) is None
    assert store.list_files("batch", None, 10, ascending=True) == []
    store.close()


def test_models_list_their_shutdown_dates_and_a_shut_down_model_is_gone(start_gateway):
    gateway = start_gateway(shutdown_dates="gpt-5-mini=2027-01-01,gpt-5-nano=2020-01-01")
    client = gateway.client(max_retries=0)
    assert client.models.retrieve("gpt-5-mini").shutdown_date == "2027-01-01"
    assert client.models.retrieve("gpt-4o-mini").shutdown_date is None
    with pytest.raises(openai.NotFoundError) as gone:
        chat(client, "gpt-5-nano")
    assert gone.value.body["code"] == "model_not_found"
