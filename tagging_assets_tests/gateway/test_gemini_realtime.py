"""Gemini's generateContent as the gateway answers it, through the real google-genai SDK: the reply and its usage,
the output budget, the thinking rules, the closed vocabulary, and the 429s of limits, quota and flex."""

from __future__ import annotations

import json

import httpx
import pytest
from google.genai import errors, types

from tagging_assets.wire import tagging_json_schema
from tagging_assets_tests.gateway.test_gemini_batches import KEY, TEXTS


def config(**options: object) -> types.GenerateContentConfig:
    settings: dict = {
        "system_instruction": "Tag the transcript.",
        "response_mime_type": "application/json",
        "response_json_schema": tagging_json_schema(),
        "max_output_tokens": 800,
    }
    return types.GenerateContentConfig(**(settings | options))


def generate(gateway, model: str, text: str, **options: object) -> types.GenerateContentResponse:
    """One call on a client of its own, held while it runs (a client nobody holds is closed when collected)."""
    client = gateway.gemini_client()
    return client.models.generate_content(model=model, contents=text, config=config(**options))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, tagger_pools):
    from tagging_assets_tests.support import InProcessGateway

    with InProcessGateway(tmp_path_factory.mktemp("gemini-realtime"), {}, KEY, tagger_pools) as served:
        yield served


def post(gateway, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{gateway.port}{path}", json=body, headers={"x-goog-api-key": KEY})


def test_a_reply_is_the_json_text_with_gemini_usage(gateway):
    client = gateway.gemini_client()
    reply = client.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config())
    assert set(json.loads(reply.text)) == {"tags", "summary"}
    assert reply.candidates[0].finish_reason.name == "STOP" and reply.model_version == "gemini-2.5-flash"
    usage = reply.usage_metadata
    assert usage.thoughts_token_count > 0, "2.5 Flash thinks unless its budget is 0"
    assert (
        usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )
    assert reply.response_id
    still = client.models.generate_content(
        model="gemini-2.5-flash", contents=TEXTS[0], config=config(thinking_config={"thinking_budget": 0})
    )
    assert still.usage_metadata.thoughts_token_count is None


def test_the_output_budget_cuts_a_reply_at_max_tokens(gateway):
    client = gateway.gemini_client(api_version="v1beta")
    reply = client.models.generate_content(
        model="gemini-2.5-flash-lite", contents=TEXTS[1], config=config(max_output_tokens=12)
    )
    assert reply.candidates[0].finish_reason.name == "MAX_TOKENS"


def test_a_closed_vocabulary_holds_the_tags(gateway):
    schema = tagging_json_schema()
    vocabulary = ["kubernetes", "networking", "baking", "mathematics"]
    schema["properties"]["tags"]["items"] = {"type": "string", "enum": vocabulary}
    reply = generate(
        gateway,
        "gemini-3-flash-preview",
        TEXTS[0],
        response_json_schema=schema,
        thinking_config={"thinking_level": "LOW"},
    )
    tags = json.loads(reply.text)["tags"]
    assert tags and set(tags) <= set(vocabulary) and "kubernetes" in tags


def test_an_openapi_response_schema_is_followed_like_a_json_schema(gateway):
    schema = {
        "type": "OBJECT",
        "properties": {"tags": {"type": "ARRAY", "items": {"type": "STRING"}}, "summary": {"type": "STRING"}},
        "required": ["tags", "summary"],
    }
    reply = generate(gateway, "gemini-2.5-flash", TEXTS[2], response_json_schema=None, response_schema=schema)
    answer = json.loads(reply.text)
    assert isinstance(answer["tags"], list) and answer["tags"] and isinstance(answer["summary"], str)


@pytest.mark.parametrize(
    ("model", "thinking", "message"),
    [
        ("gemini-2.5-pro", {"thinking_budget": 0}, "Budget 0 is invalid. This model only works in thinking mode."),
        ("gemini-2.5-flash-lite", {"thinking_budget": 100}, "Please choose a value between 512 and 24576."),
        ("gemini-2.5-pro", {"thinking_budget": 40000}, "Please choose a value between 128 and 32768."),
        ("gemini-2.5-flash", {"thinking_level": "LOW"}, "Thinking level LOW is not supported for this model."),
        ("gemini-3-flash-preview", {"thinking_level": "HIGH", "thinking_budget": 1024}, "only one of"),
    ],
)
def test_thinking_a_model_does_not_take_is_refused(gateway, model, thinking, message):
    with pytest.raises(errors.ClientError) as refused:
        generate(gateway, model, TEXTS[0], thinking_config=thinking)
    assert refused.value.code == 400 and refused.value.status == "INVALID_ARGUMENT"
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contents": [{"parts": [{"text": "x"}]}], "temperatur": 1}, 'Unknown name "temperatur"'),
        (
            {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"max_tokens": 5}},
            'Unknown name "max_tokens"',
        ),
        ({"systemInstruction": {"parts": [{"text": "x"}]}}, "contents is not specified"),
        (
            {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseJsonSchema": {"type": "object"}}},
            "response_mime_type application/json",
        ),
    ],
)
def test_a_request_gemini_would_refuse_is_refused_in_googles_words(gateway, body, message):
    answer = post(gateway, "/v1beta/models/gemini-2.5-flash:generateContent", body)
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["status"] == "INVALID_ARGUMENT" and message in error["message"]


def test_snake_case_fields_are_read_as_proto_json_reads_them(gateway):
    body = {
        "contents": [{"role": "user", "parts": [{"text": TEXTS[2]}]}],
        "system_instruction": {"parts": [{"text": "Tag it."}]},
        "generation_config": {"response_mime_type": "application/json", "max_output_tokens": 500},
    }
    answer = post(gateway, "/v1/models/gemini-2.0-flash:generateContent", body)
    assert answer.status_code == 200 and answer.json()["candidates"][0]["finishReason"] == "STOP"


def test_an_unknown_model_is_not_found(gateway):
    with pytest.raises(errors.ClientError) as missing:
        generate(gateway, "gemini-1.0-pro", "x")
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"


def test_the_rate_limit_is_googles_resource_exhausted_with_a_retry_delay(start_gateway):
    client = start_gateway(KEY, requests_per_minute=60).gemini_client()
    client.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config())
    with pytest.raises(errors.ClientError) as limited:
        client.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[1], config=config())
    assert limited.value.code == 429 and limited.value.status == "RESOURCE_EXHAUSTED"
    details = {detail["@type"].rsplit(".", 1)[-1]: detail for detail in limited.value.details["error"]["details"]}
    assert details["RetryInfo"]["retryDelay"].endswith("s") and "QuotaFailure" in details


def test_a_spent_quota_and_missing_flex_capacity_are_429s(start_gateway):
    spent = start_gateway(KEY, quota_exhausted_after=0).gemini_client()
    with pytest.raises(errors.ClientError) as quota:
        spent.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config())
    assert quota.value.status == "RESOURCE_EXHAUSTED" and "exceeded your current quota" in quota.value.message
    busy = start_gateway(KEY, flex_unavailable_rate=1.0).gemini_client()
    with pytest.raises(errors.ClientError) as flex:
        busy.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config(service_tier="flex"))
    assert flex.value.code == 429 and flex.value.status == "RESOURCE_EXHAUSTED"
    standard = busy.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config())
    assert standard.candidates[0].finish_reason.name == "STOP"


def test_an_injected_server_error_is_googles_internal(start_gateway):
    client = start_gateway(KEY, server_error_every=1).gemini_client()
    with pytest.raises(errors.ServerError) as failed:
        client.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0], config=config())
    assert failed.value.code == 500 and failed.value.status == "INTERNAL"
