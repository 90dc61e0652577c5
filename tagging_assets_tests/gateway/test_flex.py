"""``service_tier`` and the newest models through the openai and anthropic SDKs: flex where OpenAI offers it,
refused where it does not, its capacity faults, and the gpt-5.x request rules."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import anthropic
import openai
import pytest

TEXT = "Retrieval augmented generation grounds a language model in retrieved documents."
MESSAGES = [{"role": "user", "content": TEXT}]


def test_a_flex_request_on_a_model_with_flex_is_served_at_flex(shared_gateway):
    client = shared_gateway.client()
    completion = client.chat.completions.create(
        model="gpt-5.4-mini", messages=MESSAGES, reasoning_effort="none", temperature=0.2, service_tier="flex"
    )
    assert completion.service_tier == "flex" and completion.choices[0].message.content
    response = client.responses.create(model="o4-mini-2025-04-16", input=TEXT, service_tier="flex")
    assert response.service_tier == "flex"
    assert client.chat.completions.create(model="gpt-5-mini", messages=MESSAGES).service_tier == "default"
    priority = client.responses.create(model="gpt-5.5", input=TEXT, service_tier="priority")
    assert priority.service_tier == "default"


def test_gpt_5_4_mini_takes_a_temperature_only_without_reasoning(shared_gateway):
    with pytest.raises(openai.BadRequestError) as refused:
        shared_gateway.client().chat.completions.create(
            model="gpt-5.4-mini", messages=MESSAGES, reasoning_effort="low", temperature=0.2, service_tier="flex"
        )
    assert refused.value.body["param"] == "temperature" and refused.value.body["code"] == "unsupported_value"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-5.3-chat-latest"])
def test_flex_on_a_model_without_it_is_a_400_naming_the_tier(shared_gateway, model):
    with pytest.raises(openai.BadRequestError) as refused:
        shared_gateway.client().chat.completions.create(model=model, messages=MESSAGES, service_tier="flex")
    assert refused.value.body == {
        "message": "Unsupported service_tier: flex",
        "type": "invalid_request_error",
        "param": "service_tier",
        "code": None,
    }


def test_an_unknown_service_tier_is_an_invalid_value(shared_gateway):
    with pytest.raises(openai.BadRequestError) as refused:
        shared_gateway.client().responses.create(model="gpt-5", input=TEXT, extra_body={"service_tier": "fast"})
    assert refused.value.body["param"] == "service_tier" and refused.value.body["code"] == "invalid_value"


def test_the_newest_models_follow_their_families_rules(shared_gateway):
    client = shared_gateway.client()
    assert client.chat.completions.create(model="gpt-5.2", messages=MESSAGES, reasoning_effort="xhigh").model == (
        "gpt-5.2-2025-12-11"
    )
    with pytest.raises(openai.BadRequestError) as no_xhigh:
        client.chat.completions.create(model="gpt-5.1", messages=MESSAGES, reasoning_effort="xhigh")
    assert no_xhigh.value.body["code"] == "unsupported_value"
    with pytest.raises(openai.BadRequestError) as no_effort:
        client.chat.completions.create(model="gpt-5.3-chat-latest", messages=MESSAGES, reasoning_effort="low")
    assert no_effort.value.body["param"] == "reasoning_effort"
    with pytest.raises(openai.BadRequestError) as no_max_tokens:
        client.chat.completions.create(model="gpt-5.6-luna", messages=MESSAGES, max_tokens=300)
    assert no_max_tokens.value.body["code"] == "unsupported_parameter"
    served = {model.id for model in client.models.list()}
    assert {"gpt-5.4", "gpt-5.4-nano", "gpt-5.6-sol", "gpt-5.6-sol-2026-07-09", "gpt-5.6-terra"} <= served


def test_flex_without_capacity_is_a_429_that_a_retry_can_get_past(start_gateway):
    gateway = start_gateway(flex_unavailable_rate=0.5)
    client = gateway.client(max_retries=0)
    attempts: dict[str, int] = {}
    for number in range(8):
        custom_id = f"flex-{number}"
        while True:
            attempts[custom_id] = attempts.get(custom_id, 0) + 1
            assert attempts[custom_id] < 30
            try:
                reply = client.chat.completions.create(
                    model="gpt-5-nano",
                    messages=[{"role": "user", "content": f"{TEXT} Part {number}."}],
                    service_tier="flex",
                    extra_headers={"X-Client-Request-Id": custom_id},
                )
            except openai.RateLimitError as unavailable:
                assert unavailable.body["code"] == "resource_unavailable"
                assert unavailable.body["message"].startswith("Resource unavailable")
                assert "retry-after" not in unavailable.response.headers
                continue
            assert reply.service_tier == "flex" and reply.usage is not None
            break
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/stats/realtime") as response:
        stats = json.load(response)
    assert stats["received"] == attempts
    refusals = sum(attempts.values()) - len(attempts)
    assert refusals > 0 and stats["429_by_reason"] == {"flex_unavailable": refusals}


def test_flex_requests_may_be_served_at_the_default_tier(start_gateway):
    client = start_gateway(flex_served_default_rate=1.0).client()
    reply = client.responses.create(model="gpt-5.6-sol", input=TEXT, service_tier="flex")
    assert reply.service_tier == "default"


def test_anthropic_takes_only_its_own_service_tiers(shared_gateway):
    sdk = shared_gateway.anthropic_client()
    params: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 300, "messages": MESSAGES}
    assert sdk.messages.create(**params, service_tier="standard_only").usage.service_tier == "standard"
    with pytest.raises(anthropic.BadRequestError) as refused:
        sdk.messages.create(**params, extra_body={"service_tier": "flex"})
    assert "service_tier" in refused.value.body["error"]["message"]
