"""Anthropic's Messages and Message Batches as the gateway serves them, through the official anthropic SDK."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import anthropic
import pytest
from anthropic import transform_schema

from tagging_assets.wire import tagging_json_schema

KEY = "sk-ant-test"
TEXT = "Kubernetes schedules pods onto nodes; services give them stable addresses."
SCHEMA = tagging_json_schema()
TOOL = {"name": "record_tags", "input_schema": SCHEMA}


def client(gateway, **options) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=f"http://127.0.0.1:{gateway.port}", **options)


def params(model: str = "claude-haiku-4-5", **extra) -> dict:
    return {"model": model, "max_tokens": 300, "messages": [{"role": "user", "content": TEXT}], **extra}


def ended(sdk: anthropic.Anthropic, batch_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    batch = sdk.messages.batches.retrieve(batch_id)
    while batch.processing_status != "ended":
        assert time.monotonic() < deadline, f"{batch_id} still {batch.processing_status}"
        time.sleep(0.1)
        batch = sdk.messages.batches.retrieve(batch_id)
    return batch


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, tagger_pools):
    from tagging_assets_tests.support import InProcessGateway

    folder = tmp_path_factory.mktemp("anthropic")
    with InProcessGateway(folder, {"seconds_per_line": 0.05}, KEY, tagger_pools) as served:
        yield served


def test_a_message_answers_with_structured_output_or_a_forced_tool(gateway):
    sdk = client(gateway, max_retries=0)
    structured = sdk.messages.create(
        **params(system="Tag it."),
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": transform_schema(SCHEMA)}}},
    )
    assert structured.model == "claude-haiku-4-5-20251001" and structured.stop_reason == "end_turn"
    assert set(json.loads(structured.content[0].text)) == {"tags", "summary"}
    forced = sdk.messages.create(**params(tools=[TOOL], tool_choice={"type": "tool", "name": "record_tags"}))
    assert forced.stop_reason == "tool_use" and forced.content[0].type == "tool_use"
    assert set(forced.content[0].input) == {"tags", "summary"}
    short = sdk.messages.create(**{**params(), "max_tokens": 5})
    assert short.stop_reason == "max_tokens"


@pytest.mark.parametrize(
    ("body", "error", "kind"),
    [
        (params(model="claude-imaginary"), anthropic.NotFoundError, "not_found_error"),
        (
            {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": TEXT}]},
            anthropic.BadRequestError,
            "invalid_request_error",
        ),
    ],
)
def test_bad_requests_get_anthropics_errors(gateway, body, error, kind):
    with pytest.raises(error) as refused:
        client(gateway, max_retries=0).post("/v1/messages", body=body, cast_to=object)
    assert refused.value.body["type"] == "error" and refused.value.body["error"]["type"] == kind


def test_authentication_and_the_version_header_are_checked_as_anthropic_checks_them(gateway):
    with pytest.raises(anthropic.AuthenticationError) as wrong:
        anthropic.Anthropic(api_key="sk-wrong", base_url=f"http://127.0.0.1:{gateway.port}").messages.batches.list()
    assert wrong.value.body["error"]["type"] == "authentication_error" and "sk-wrong" not in str(wrong.value)
    url = f"http://127.0.0.1:{gateway.port}/v1/messages/batches"
    with pytest.raises(urllib.error.HTTPError) as unversioned:
        urllib.request.urlopen(urllib.request.Request(url, headers={"x-api-key": KEY}), timeout=10)
    assert unversioned.value.code == 400 and "anthropic-version" in json.load(unversioned.value)["error"]["message"]
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as listed:
        assert "data" in json.load(listed), "x-api-key is accepted as well as a bearer token"


def test_a_message_batch_counts_nothing_but_processing_until_it_ends_then_streams_every_result_type(gateway):
    sdk = client(gateway)
    requests = [
        {
            "custom_id": "youtube_ok",
            "params": params(tools=[TOOL], tool_choice={"type": "tool", "name": "record_tags"}),
        },
        {"custom_id": "youtube_bad-model", "params": params(model="claude-imaginary")},
        {
            "custom_id": "youtube_no-max",
            "params": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": TEXT}]},
        },
    ]
    batch = sdk.messages.batches.create(requests=requests)
    assert batch.id.startswith("msgbatch_") and batch.processing_status == "in_progress"
    assert (batch.request_counts.processing, batch.request_counts.succeeded, batch.request_counts.errored) == (3, 0, 0)
    done = ended(sdk, batch.id)
    assert (done.request_counts.succeeded, done.request_counts.errored, done.request_counts.processing) == (1, 2, 0)
    assert done.ended_at is not None and done.results_url
    results = {result.custom_id: result.result for result in sdk.messages.batches.results(batch.id)}
    assert results["youtube_ok"].type == "succeeded"
    assert results["youtube_ok"].message.content[0].input["tags"]
    assert results["youtube_ok"].message.usage.service_tier == "batch"
    assert results["youtube_bad-model"].type == "errored"
    assert results["youtube_bad-model"].error.error.type == "not_found_error"
    assert results["youtube_no-max"].error.error.type == "invalid_request_error"
    assert batch.id in [listed.id for listed in sdk.messages.batches.list(limit=100)]


def test_a_cancelled_message_batch_reports_the_requests_it_never_ran_as_canceled(gateway):
    sdk = client(gateway)
    requests = [{"custom_id": f"youtube_{n}", "params": params()} for n in range(40)]
    batch = sdk.messages.batches.create(requests=requests)
    canceling = sdk.messages.batches.cancel(batch.id)
    assert canceling.processing_status in ("canceling", "ended") and canceling.cancel_initiated_at
    done = ended(sdk, batch.id)
    counts = done.request_counts
    assert counts.canceled > 0 and counts.succeeded + counts.canceled + counts.errored == 40
    kinds = [result.result.type for result in sdk.messages.batches.results(batch.id)]
    assert len(kinds) == 40 and kinds.count("canceled") == counts.canceled


@pytest.mark.parametrize(
    ("requests", "problem"),
    [
        ([{"custom_id": "youtube:abc", "params": params()}], "custom_id: String should match pattern"),
        ([{"custom_id": "a", "params": params()}, {"custom_id": "a", "params": params()}], "is not unique"),
        ([], "a list of 1 to 100,000 requests"),
    ],
)
def test_a_batch_anthropic_would_refuse_is_refused_whole(gateway, requests, problem):
    with pytest.raises(anthropic.BadRequestError) as refused:
        client(gateway, max_retries=0).messages.batches.create(requests=requests)
    assert problem in refused.value.body["error"]["message"]


def test_an_expired_message_batch_reports_the_rest_as_expired(start_gateway):
    gateway = start_gateway(KEY, expire_after_seconds=1, seconds_per_line=0.2, workers=1)
    sdk = client(gateway)
    batch = sdk.messages.batches.create(requests=[{"custom_id": f"v{n}", "params": params()} for n in range(20)])
    done = ended(sdk, batch.id)
    assert done.request_counts.expired > 0
    kinds = [result.result.type for result in sdk.messages.batches.results(batch.id)]
    assert kinds.count("expired") == done.request_counts.expired and len(kinds) == 20


@pytest.mark.parametrize(
    ("schema", "refused"),
    [
        (SCHEMA, "For 'array' type, property 'maxItems' is not supported"),
        (
            {**SCHEMA, "additionalProperties": True},
            "For 'object' type, 'additionalProperties' must be explicitly set to false",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "additionalProperties": False},
            "For 'integer' type, property 'minimum' is not supported",
        ),
    ],
)
def test_a_structured_output_schema_anthropic_would_refuse_is_refused_as_anthropic_words_it(gateway, schema, refused):
    sdk = client(gateway, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as error:
        sdk.messages.create(
            **params(), extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}}
        )
    assert error.value.body["error"]["message"] == f"output_config.format.schema: {refused}"
