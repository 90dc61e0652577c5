"""A gateway run with ``--upstream`` in front of a second gateway's realtime endpoints, standing in for vLLM or
Ollama: batches, their results and usage come from the upstream, failures land in the error file, and the gateway
says who answers."""

from __future__ import annotations

import json
import urllib.request

import pytest
from anthropic import BadRequestError as AnthropicBadRequestError

from tagging_assets.gateway.settings import GatewayConfigError, settings_from_env
from tagging_assets.gateway.upstream import batch_request_id
from tagging_assets_tests.support import jsonl, read_lines, request_line, submit, wait_for


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as response:
        return json.load(response)


def test_a_batch_through_an_upstream_gets_the_upstreams_answers_usage_and_model(start_gateway):
    model_server = start_gateway(azure_deployments="local-model=gpt-4o-mini-2024-07-18")
    gateway = start_gateway(upstream=model_server.base_url, upstream_concurrency=3)
    client = gateway.client()
    lines = [request_line(f"n{n}", f"Transformers and attention, part {n}.", model="local-model") for n in range(10)]
    done = wait_for(client, submit(client, jsonl(lines)).id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 10, "completed": 10, "failed": 0}
    results = read_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in results) == sorted(line["custom_id"] for line in lines)
    assert {line["response"]["body"]["model"] for line in results} == {"gpt-4o-mini-2024-07-18"}
    assert {line["id"] for line in results} == {batch_request_id(done.id, line["custom_id"]) for line in lines}
    assert done.usage.input_tokens == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in results)
    assert done.usage.output_tokens == sum(line["response"]["body"]["usage"]["completion_tokens"] for line in results)
    assert model_server.realtime_arrivals()["received"] == {line["custom_id"]: 1 for line in lines}
    assert not (gateway.state_dir / "upstream" / done.id).exists()


def test_responses_lines_reach_the_upstreams_responses_endpoint(start_gateway):
    model_server = start_gateway()
    gateway = start_gateway(upstream=model_server.base_url)
    client = gateway.client()
    body = {"model": "gpt-4o-mini", "input": "GANs."}
    lines = [{"custom_id": "r1", "method": "POST", "url": "/v1/responses", "body": body}]
    done = wait_for(client, submit(client, jsonl(lines), endpoint="/v1/responses").id)
    assert done.request_counts.completed == 1
    [result] = read_lines(client, done.output_file_id)
    assert result["response"]["body"]["object"] == "response"
    assert done.usage.output_tokens == result["response"]["body"]["usage"]["output_tokens"]
    assert model_server.served().get("POST /v1/responses") == 1


def test_an_upstream_4xx_lands_in_the_error_file_with_its_body(start_gateway):
    model_server = start_gateway(shutdown_dates="gpt-4o-mini=2000-01-01")
    client = start_gateway(upstream=model_server.base_url, upstream_max_retries=0).client()
    done = wait_for(client, submit(client, jsonl([request_line("a", "Diffusion."), request_line("b", "GANs.")])).id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 2, "completed": 0, "failed": 2}
    assert done.output_file_id is None
    errors = read_lines(client, done.error_file_id)
    assert sorted(line["custom_id"] for line in errors) == ["a", "b"]
    for line in errors:
        assert line["response"]["status_code"] == 404
        assert line["response"]["body"]["error"]["code"] == "model_not_found"
        assert line["error"] is None


def test_an_upstream_that_never_answers_gives_connection_error_lines(start_gateway):
    from tagging_assets.gateway.process import free_port

    closed = f"http://127.0.0.1:{free_port()}/v1"
    client = start_gateway(upstream=closed, upstream_max_retries=1).client()
    done = wait_for(client, submit(client, jsonl([request_line("a", "Diffusion.")])).id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 1, "completed": 0, "failed": 1}
    [line] = read_lines(client, done.error_file_id)
    assert line["custom_id"] == "a"
    assert line["response"] is None
    assert line["error"]["code"] == "connection_error"
    assert "ConnectError" in line["error"]["message"]


def test_an_upstream_key_is_sent_as_a_bearer_token_from_the_named_variable(start_gateway, monkeypatch):
    model_server = start_gateway(api_key="sk-model-server")
    monkeypatch.setenv("MODEL_SERVER_KEY", "sk-model-server")
    client = start_gateway(upstream=model_server.base_url, upstream_key_env="MODEL_SERVER_KEY").client()
    done = wait_for(client, submit(client, jsonl([request_line("a", "Diffusion.")])).id)
    assert done.request_counts.model_dump() == {"total": 1, "completed": 1, "failed": 0}


def test_a_named_key_variable_that_is_unset_is_refused_in_one_line():
    environ = {"TAGGING_GATEWAY_UPSTREAM": "http://127.0.0.1:1/v1", "TAGGING_GATEWAY_UPSTREAM_KEY_ENV": "NOT_SET"}
    with pytest.raises(GatewayConfigError, match="--upstream-key-env names NOT_SET, which is not set") as refused:
        settings_from_env({}, environ)
    assert "\n" not in str(refused.value)
    with pytest.raises(GatewayConfigError, match="pass --upstream URL too"):
        settings_from_env({"upstream_key_env": "HOME"}, {})


def test_health_says_who_answers(start_gateway):
    offline = start_gateway()
    assert health(offline.port) == {"status": "ok", "backend": "offline-tagger", "upstream": None}
    fronted = start_gateway(upstream=offline.base_url)
    assert health(fronted.port) == {"status": "ok", "backend": "upstream", "upstream": offline.base_url}


def test_realtime_requests_pass_through_to_the_upstream(start_gateway):
    model_server = start_gateway(azure_deployments="local-model=gpt-4o-mini-2024-07-18")
    client = start_gateway(upstream=model_server.base_url).client(max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="local-model",
        messages=[{"role": "user", "content": "Attention."}],
        extra_headers={"X-Client-Request-Id": "rt-1"},
    )
    assert raw.parse().model == "gpt-4o-mini-2024-07-18"
    assert raw.headers["x-client-request-id"] == "rt-1"
    assert model_server.realtime_arrivals()["received"] == {"rt-1": 1}


def test_message_batches_are_refused_at_create_with_an_upstream(start_gateway):
    model_server = start_gateway()
    gateway = start_gateway(upstream=model_server.base_url)
    request = {"custom_id": "a", "params": {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": []}}
    with pytest.raises(AnthropicBadRequestError, match="does not speak Anthropic's Messages"):
        gateway.anthropic_client().messages.batches.create(requests=[request])
    assert gateway.batches() == {}


def test_a_spent_upstream_quota_pauses_the_batch_which_resumes_without_resending_what_was_answered(
    start_gateway, monkeypatch
):
    monkeypatch.setattr("tagging_assets.gateway.worker.UPSTREAM_QUOTA_PAUSE_SECONDS", 0.2)
    model_server = start_gateway(quota_exhausted_after=3)
    client = start_gateway(upstream=model_server.base_url, upstream_concurrency=1).client()
    lines = [request_line(f"n{n}", f"Attention, part {n}.") for n in range(6)]
    batch = submit(client, jsonl(lines))
    while not model_server.realtime_arrivals()["429_by_reason"].get("insufficient_quota"):
        pass
    paused = client.batches.retrieve(batch.id)
    assert paused.status == "in_progress"
    assert paused.request_counts.completed == 0, "a chunk is recorded once every line of it has its result"
    answered_before = set(model_server.realtime_arrivals()["received"]) - {"n3"}
    assert answered_before == {"n0", "n1", "n2"}

    model_server.stop()
    model_server.start()  # credit added: the same server, its quota counted afresh
    done = wait_for(client, batch.id)
    assert done.request_counts.model_dump() == {"total": 6, "completed": 6, "failed": 0}
    assert sorted(line["custom_id"] for line in read_lines(client, done.output_file_id)) == [f"n{n}" for n in range(6)]
    assert model_server.realtime_arrivals()["received"] == {"n3": 1, "n4": 1, "n5": 1}
