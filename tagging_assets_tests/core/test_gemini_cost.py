"""What Gemini's usage costs: thoughts billed as output and counted on their own, cached input at its rate."""

import json

import pytest

from tagging_assets.core.cost import cost_of
from tagging_assets.core.models import ModelTable
from tagging_assets.core.results import TierUsage, cost_of_tiers, outcome_of
from tagging_assets.wire import read_result

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})
USAGE = {
    "promptTokenCount": 1_200,
    "cachedContentTokenCount": 1_000,
    "candidatesTokenCount": 40,
    "thoughtsTokenCount": 150,
}


def _outcome():
    response = {
        "candidates": [{"content": {"parts": [{"text": REPLY}]}, "finishReason": "STOP"}],
        "usageMetadata": USAGE,
    }
    return outcome_of(read_result(json.dumps({"key": "youtube:a", "response": response})))


def test_gemini_usage_is_priced_per_mode_with_thoughts_as_output():
    outcome = _outcome()
    assert outcome.ok and outcome.usage.output_tokens == 190 and outcome.usage.reasoning_tokens == 150
    cost = cost_of(ModelTable().profile("gemini-2.5-flash-lite"), outcome.usage, mode="batch")
    assert cost is not None
    # 200 uncached input at $0.05, 1,000 cached at $0.01, 190 output (40 reply + 150 thoughts) at $0.20 per 1M.
    assert cost.batch_usd == pytest.approx((200 * 0.05 + 1_000 * 0.01 + 190 * 0.20) / 1e6)
    assert cost.realtime_usd == pytest.approx((200 * 0.10 + 1_000 * 0.01 + 190 * 0.40) / 1e6)
    assert cost.flex_usd == cost.batch_usd


def test_a_gemini_line_names_no_tier_so_it_is_billed_at_the_jobs_mode():
    outcome = _outcome()
    usage = TierUsage().add(outcome.usage, outcome.service_tier)
    profile = ModelTable().profile("gemini-2.5-flash-lite")
    flex = cost_of_tiers(profile, usage, mode="flex")
    realtime = cost_of_tiers(profile, usage, mode="realtime")
    assert flex is not None and realtime is not None
    assert flex.served_usd == pytest.approx(flex.batch_usd) and realtime.served_usd == pytest.approx(
        realtime.realtime_usd
    )
