"""The realtime endpoints behind per-key rate limits and a spent quota, through the real SDKs: the 429 bodies and
headers each API sends, a retry that the announced wait lets through, and what reached the gateway by client
request id."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import anthropic
import openai
import pytest

TEXT = "Speculative decoding speeds up language model inference with a small draft model."
MESSAGES = [{"role": "user", "content": TEXT}]


def realtime_stats(gateway: Any) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/stats/realtime") as response:
        return json.load(response)


def named(custom_id: str) -> dict[str, Any]:
    return {"extra_headers": {"X-Client-Request-Id": custom_id}}


def test_a_burst_over_the_requests_limit_gets_openais_429_and_nothing_reaches_the_tagger(start_gateway):
    gateway = start_gateway(requests_per_minute=6)
    client = gateway.client(max_retries=0)
    first = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, **named("a"))
    assert first.headers["x-ratelimit-limit-requests"] == "6"
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    assert first.headers["x-ratelimit-reset-requests"].endswith("s")
    assert first.headers["x-client-request-id"] == "a"
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named("b"))
    error = refused.value
    assert error.body["type"] == "requests" and error.body["code"] == "rate_limit_exceeded"
    assert error.body["param"] is None
    message = error.body["message"]
    assert message.startswith("Rate limit reached for gpt-4o-mini in organization ")
    assert "on requests per min (RPM): Limit 6, Used 6, Requested 1. Please try again in " in message
    assert message.endswith("Visit https://platform.openai.com/account/rate-limits to learn more.")
    headers = error.response.headers
    assert 9_000 < int(headers["retry-after-ms"]) <= 10_000
    assert headers["retry-after"] == "10"
    assert headers["x-client-request-id"] == "b" and headers["x-ratelimit-remaining-requests"] == "0"
    assert realtime_stats(gateway) == {"received": {"a": 1}, "total": 1, "429_by_reason": {"requests": 1}}


def test_the_sdk_waits_what_the_429_says_and_gets_through(start_gateway):
    gateway = start_gateway(requests_per_minute=120)
    client = gateway.client(max_retries=2)
    for custom_id in ("a", "b", "c"):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named(custom_id))
        assert reply.choices[0].message.content
    stats = realtime_stats(gateway)
    assert stats["received"] == {"a": 1, "b": 1, "c": 1}, "a refused attempt never arrived"
    assert stats["429_by_reason"] == {"requests": 1}, "two at once fit in the bucket, the third waited"


def test_each_api_key_has_its_own_limits(start_gateway):
    gateway = start_gateway(requests_per_minute=6)
    for key in ("sk-one", "sk-two"):
        openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    with pytest.raises(openai.RateLimitError):
        openai.OpenAI(base_url=gateway.base_url, api_key="sk-one", max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )


def test_tokens_count_the_output_budget_and_a_request_over_the_minute_is_refused_for_good(start_gateway):
    gateway = start_gateway(tokens_per_minute=600)
    client = gateway.client(max_retries=0)
    with pytest.raises(openai.RateLimitError) as too_large:
        client.responses.create(model="gpt-4o-mini", input=TEXT, max_output_tokens=601, **named("big"))
    body = too_large.value.body
    assert body["type"] == "tokens" and body["code"] == "rate_limit_exceeded"
    assert "Request too large for gpt-4o-mini in organization " in body["message"]
    assert "on tokens per min (TPM): Limit 600, Requested 601." in body["message"]
    assert "retry-after" not in too_large.value.response.headers, "waiting never lets it in"
    first = client.responses.with_raw_response.create(model="gpt-4o-mini", input=TEXT, max_output_tokens=300)
    assert first.headers["x-ratelimit-limit-tokens"] == "600"
    assert first.headers["x-ratelimit-remaining-tokens"] == "0" and first.headers["x-ratelimit-reset-tokens"] == "30s"
    assert "x-ratelimit-limit-requests" not in first.headers, "no requests limit was set"
    with pytest.raises(openai.RateLimitError) as refused:
        client.responses.create(model="gpt-4o-mini", input=TEXT, max_output_tokens=300)
    assert refused.value.body["type"] == "tokens"
    assert "Limit 600, Used 600, Requested 300. Please try again in 29." in refused.value.body["message"]
    assert refused.value.response.headers["retry-after"] == "30"
    stats = realtime_stats(gateway)
    assert stats["total"] == 1 and stats["429_by_reason"] == {"too_large": 1, "tokens": 1}


def test_anthropics_messages_are_refused_in_anthropics_shape(start_gateway):
    gateway = start_gateway(requests_per_minute=6, tokens_per_minute=60_000)
    sdk = gateway.anthropic_client(max_retries=0)
    params: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 300, "messages": MESSAGES}
    first = sdk.messages.with_raw_response.create(**params)
    assert first.parse().usage.service_tier == "standard"
    assert first.headers["anthropic-ratelimit-requests-limit"] == "6"
    assert first.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert first.headers["anthropic-ratelimit-tokens-limit"] == "60000"
    assert first.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    with pytest.raises(anthropic.RateLimitError) as refused:
        sdk.messages.create(**params)
    body = refused.value.body
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert body["request_id"].startswith("req_")
    assert "would exceed the rate limit for your organization of 6 requests per minute" in body["error"]["message"]
    assert refused.value.response.headers["retry-after"] == "10"
    assert "anthropic-ratelimit-requests-reset" in refused.value.response.headers


def test_a_spent_quota_refuses_every_later_request_with_insufficient_quota(start_gateway):
    gateway = start_gateway(quota_exhausted_after=2)
    client = gateway.client(max_retries=0)
    for custom_id in ("a", "b"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named(custom_id))
    for custom_id in ("c", "d"):
        with pytest.raises(openai.RateLimitError) as spent:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named(custom_id))
        assert spent.value.body["type"] == "insufficient_quota" and spent.value.body["code"] == "insufficient_quota"
        assert spent.value.body["param"] is None
        assert spent.value.body["message"].startswith(
            "You exceeded your current quota, please check your plan and billing details."
        )
        assert "retry-after" not in spent.value.response.headers
    with pytest.raises(anthropic.RateLimitError) as anthropic_spent:
        gateway.anthropic_client(max_retries=0).messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=MESSAGES
        )
    error = anthropic_spent.value.body["error"]
    assert error["type"] == "rate_limit_error"
    assert error["details"] == {"error_code": "enforced_spend_limit_reached"}
    stats = realtime_stats(gateway)
    assert stats["received"] == {"a": 1, "b": 1, "c": 1, "d": 1}, "a spent quota is an answer: they arrived"
    assert stats["total"] == 5 and stats["429_by_reason"] == {"insufficient_quota": 3}


def test_the_sdk_retries_reach_the_gateway_as_counted_arrivals_of_one_request(start_gateway):
    gateway = start_gateway(quota_exhausted_after=0)
    with pytest.raises(openai.RateLimitError):
        gateway.client(max_retries=2).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named("x"))
    assert realtime_stats(gateway)["received"] == {"x": 3}, "openai-python retries insufficient_quota twice"


def test_injected_429s_count_as_arrivals_and_echo_the_client_request_id(start_gateway):
    gateway = start_gateway(rate_limit_every=2, retry_after_seconds=0.01)
    client = gateway.client(max_retries=1)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **named("a"))
    reply = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, **named("b"))
    assert reply.headers["x-client-request-id"] == "b"
    stats = realtime_stats(gateway)
    assert stats["received"] == {"a": 1, "b": 2} and stats["429_by_reason"] == {"injected": 1}


def test_without_limits_answers_carry_no_rate_limit_headers(shared_gateway):
    reply = shared_gateway.client().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert not [name for name in reply.headers if name.startswith("x-ratelimit-")]


def test_azures_deployment_path_is_limited_per_api_key_header(start_gateway):
    gateway = start_gateway(requests_per_minute=6, azure_deployments="tagger=gpt-5-mini")
    endpoint = f"http://127.0.0.1:{gateway.port}"

    def azure(key: str) -> openai.AzureOpenAI:
        return openai.AzureOpenAI(azure_endpoint=endpoint, api_key=key, api_version="2025-04-01-preview", max_retries=0)

    reply = azure("key-one").chat.completions.with_raw_response.create(model="tagger", messages=MESSAGES)
    assert reply.headers["x-ratelimit-remaining-requests"] == "0"
    azure("key-two").chat.completions.create(model="tagger", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as refused:
        azure("key-one").chat.completions.create(model="tagger", messages=MESSAGES)
    assert refused.value.body["type"] == "requests" and "Rate limit reached for tagger" in refused.value.body["message"]
