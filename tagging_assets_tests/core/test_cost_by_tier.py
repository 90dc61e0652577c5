"""A job's cost from its result lines: each line billed at the tier its response names, so a flex job that
OpenAI served partly at ``default`` costs what was billed, and the other modes' figures stay beside it."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.cost import cost_of
from tagging_assets.core.models import ModelTable
from tagging_assets.core.results import TierUsage, billing_tier, cost_of_tiers, outcome_of
from tagging_assets.wire import read_result

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})
MILLION = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)


def _line(custom_id, tier):
    body = {
        "choices": [{"message": {"content": REPLY}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000},
    }
    if tier is not None:
        body["service_tier"] = tier
    return json.dumps({"custom_id": custom_id, "response": {"status_code": 200, "body": body}, "error": None})


def _usage_of(tiers):
    usage = TierUsage()
    for number, tier in enumerate(tiers):
        outcome = outcome_of(read_result(_line(f"youtube:{number}", tier)))
        assert outcome.ok and outcome.service_tier == tier
        usage = usage.add(outcome.usage, outcome.service_tier)
    return usage


def test_a_flex_job_served_partly_at_default_is_billed_at_each_lines_tier():
    profile = ModelTable().profile("gpt-5.4-mini")
    usage = _usage_of(["flex", "flex", "default", None])
    assert usage.flex == MILLION + MILLION and usage.realtime == MILLION and usage.unnamed == MILLION
    cost = cost_of_tiers(profile, usage, mode="flex")
    flex_per_line, realtime_per_line = 0.375 + 2.25, 0.75 + 4.50
    assert cost.billed_usd == pytest.approx(3 * flex_per_line + realtime_per_line), "the unnamed line at flex"
    assert cost.flex_usd == pytest.approx(4 * flex_per_line), "what all of it at flex would have cost"
    assert cost.realtime_usd == pytest.approx(4 * realtime_per_line)
    assert cost.batch_usd == pytest.approx(4 * flex_per_line)
    assert cost.saving_usd == pytest.approx(3 * (realtime_per_line - flex_per_line))


def test_lines_that_name_no_tier_are_billed_at_the_jobs_mode():
    profile = ModelTable().profile("gpt-5.4-mini")
    usage = _usage_of([None, None])
    for mode in ("batch", "flex", "realtime"):
        cost = cost_of_tiers(profile, usage, mode=mode)
        assert cost.billed_usd == pytest.approx(cost_of(profile, usage.total, mode=mode).billed_usd)


def test_anthropics_tiers_and_an_unknown_one_have_their_rates():
    assert [billing_tier(tier, "flex") for tier in ("standard", "batch", "auto", "priority", None)] == [
        "realtime",
        "batch",
        "realtime",
        "realtime",
        "flex",
    ]
    profile = ModelTable().profile("claude-haiku-4-5")
    cost = cost_of_tiers(profile, _usage_of(["batch", "standard"]), mode="batch")
    assert cost.billed_usd == pytest.approx((0.5 + 2.5) + (1.0 + 5.0))
    assert cost.flex_usd is None, "Claude has no flex tier"


def test_a_model_without_a_price_has_no_cost_whatever_its_tiers():
    assert cost_of_tiers(ModelTable().profile("my-model"), _usage_of(["flex", None]), mode="flex") is None


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["flex", "default", "batch", "priority", None]), st.integers(0, 10**6)),
        max_size=20,
    )
)
def test_what_a_flex_job_bills_lies_between_its_batch_and_realtime_figures(lines):
    profile = ModelTable().profile("gpt-5-mini")
    usage = TierUsage()
    for tier, tokens in lines:
        usage = usage.add(TokenUsage(input_tokens=tokens, output_tokens=tokens // 10), tier)
    cost = cost_of_tiers(profile, usage, mode="flex")
    assert usage.total.input_tokens == sum(tokens for _, tokens in lines)
    assert cost.batch_usd - 1e-9 <= cost.billed_usd <= cost.realtime_usd + 1e-9
