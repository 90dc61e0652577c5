"""Cost control and sharding by themselves: estimates at each mode, a cap, a user's price table, limits per file."""

import json

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.cost import cost_of, enforce_cap, expected_cost, unknown_price
from tagging_assets.core.errors import ConfigError, CostCapError
from tagging_assets.core.models import ModelEntry, ModelTable, model_table
from tagging_assets.core.prices import Rates
from tagging_assets.core.prompt import SYSTEM_PROMPT
from tagging_assets.core.selection import CacheItem
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import write_shards
from tagging_assets.core.tokens import TokenCounter
from tagging_assets_tests.support import shard_options


def test_120000_requests_become_three_valid_shards(tmp_path):
    items = (
        CacheItem(n, f"v{n}", "A title", f"A short talk number {n} about vector search.", "h", 0, "new")
        for n in range(120_000)
    )
    shards = write_shards(
        items, tmp_path / "requests.jsonl", **shard_options(), system_prompt=SYSTEM_PROMPT, counter=TokenCounter()
    )
    assert [shard.requests for shard in shards] == [50_000, 50_000, 20_000]
    audit = audit_input_files(shard.path for shard in shards)
    assert audit.problems == [] and audit.requests == 120_000
    assert all(shard.bytes <= 200 * 1000 * 1000 for shard in shards), "200 MB as the provider writes it"


def test_the_price_table_can_be_updated_from_a_file(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            {
                "gpt-4o-mini": {"input": 0.30, "output": 1.20},
                "my-model": {"input": 1, "output": 2},
                "gpt-5.4-mini": {"input": 0.75, "cached_input": 0.075, "output": 4.50},
            }
        )
    )
    table = model_table(TaggingSettings.from_env({"TAGGING_PRICING_FILE": str(prices)}).pricing_file)
    million_in = TokenUsage(input_tokens=1_000_000)
    overridden = table.profile("gpt-4o-mini")
    assert overridden.source == f"TAGGING_PRICING_FILE={prices}", "the file wins over genai-prices"
    assert cost_of(overridden, million_in).realtime_usd == pytest.approx(0.30)
    assert cost_of(overridden, million_in).batch_usd == pytest.approx(0.15)
    assert cost_of(overridden, million_in).flex_usd is None, "gpt-4o-mini does not take flex"
    assert cost_of(table.profile("my-model"), TokenUsage(output_tokens=1_000_000)).realtime_usd == pytest.approx(2.0)
    newer = table.profile("gpt-5.4-mini")
    assert newer.prices.realtime.cached_input == 0.075 and newer.reasoning_efforts[0] == "none", "the rules hold"
    assert newer.prices.flex == newer.prices.batch == Rates(0.375, 0.0375, 2.25), "flex at batch, batch at half"
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    with pytest.raises(ConfigError, match=r"TAGGING_PRICING_FILE=.*must be JSON"):
        model_table(broken)
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"gpt-5": {"inptu": 1.25}}))
    with pytest.raises(ConfigError, match=r"gpt-5.inptu: Extra inputs are not permitted"):
        model_table(typo)
    negative = tmp_path / "negative.json"
    negative.write_text(json.dumps({"gpt-5": {"input": 1.25, "output": 10, "flex_output": -1}}))
    with pytest.raises(ConfigError, match=r"gpt-5.flex_output: Input should be greater than or equal to 0"):
        model_table(negative)


def test_a_file_entry_may_give_batch_and_flex_prices_of_its_own(tmp_path):
    prices = tmp_path / "prices.json"
    entry = {"input": 2.0, "cached_input": 0.2, "output": 8.0, "batch_input": 1.2, "batch_output": 5.0}
    prices.write_text(json.dumps({"o3": entry | {"flex_input": 0.9, "flex_cached_input": 0.1, "flex_output": 3.0}}))
    profile = model_table(prices).profile("o3-2025-04-16")
    assert profile.family == "o3" and profile.takes_flex and profile.source == f"TAGGING_PRICING_FILE={prices}"
    assert profile.prices.batch == Rates(1.2, 0.1, 5.0), "batch cached input at half, the rest as given"
    assert profile.prices.flex == Rates(0.9, 0.1, 3.0)
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert [cost_of(profile, usage, mode=mode).billed_usd for mode in ("realtime", "batch", "flex")] == pytest.approx(
        [10.0, 6.2, 3.9]
    )


def test_the_cap_refuses_before_anything_is_spent():
    table = ModelTable()
    profile = table.profile("gpt-4o-mini")
    with pytest.raises(CostCapError, match=r"at batch prices, over the cap of \$0.0010"):
        enforce_cap(expected_cost(profile, 100_000, 1), 0.001, "this submission", profile, table)
    enforce_cap(expected_cost(profile, 100_000, 1), 1.0, "this submission", profile, table)


def test_the_cap_checks_what_the_jobs_mode_bills():
    table = ModelTable()
    profile = table.profile("gpt-5.4-mini")
    expected = {mode: expected_cost(profile, 1_000_000, 100, mode=mode) for mode in ("batch", "flex", "realtime")}
    cap = (expected["batch"].billed_usd + expected["realtime"].billed_usd) / 2
    enforce_cap(expected["batch"], cap, "this submission", profile, table)
    enforce_cap(expected["flex"], cap, "this submission", profile, table)
    with pytest.raises(CostCapError, match=r"this submission would cost about \$[\d.]+ at realtime prices, over the"):
        enforce_cap(expected["realtime"], cap, "this submission", profile, table)


def test_an_unknown_model_has_no_price_and_a_cap_refuses_it():
    table = ModelTable()
    unknown = table.profile("gpt-5.7")
    assert unknown.prices is None and unknown.source is None and cost_of(unknown, TokenUsage(input_tokens=10)) is None
    assert unknown.reasoning_efforts[0] == "none", "its family's rules still hold"
    with pytest.raises(CostCapError) as refused:
        enforce_cap(expected_cost(unknown, 100, 1), 5.0, "requests.jsonl", unknown, table)
    assert "no price for gpt-5.7" in str(refused.value)
    assert "TAGGING_PRICING_FILE" in str(refused.value)
    enforce_cap(expected_cost(unknown, 100, 1), None, "requests.jsonl", unknown, table)
    assert (
        unknown_price(unknown, table)
        == "the price of gpt-5.7 is unknown (add it to the file TAGGING_PRICING_FILE names)"
    )


def test_cached_input_is_priced_at_the_cached_rate_and_reasoning_as_output():
    profile = ModelTable().profile("gpt-5-mini-2025-08-07")
    assert profile.family == "gpt-5-mini", "a dated snapshot resolves to its family"
    usage = TokenUsage(input_tokens=1_000_000, cached_tokens=400_000, output_tokens=100_000, reasoning_tokens=60_000)
    cost = cost_of(profile, usage)
    assert cost.realtime_usd == pytest.approx(0.6 * 0.25 + 0.4 * 0.025 + 0.1 * 2.00)
    assert cost.batch_usd == pytest.approx(cost.realtime_usd / 2)
    assert cost.mode == "batch" and cost.billed_usd == cost.batch_usd
    assert cost.saving_usd == pytest.approx(cost.realtime_usd / 2)


def test_the_mode_decides_what_is_billed_and_the_other_figures_stay():
    profile = ModelTable().profile("o4-mini")
    usage = TokenUsage(input_tokens=1_000_000, cached_tokens=1_000_000, output_tokens=0)
    by_mode = {mode: cost_of(profile, usage, mode=mode) for mode in ("batch", "flex", "realtime")}
    assert [cost.realtime_usd for cost in by_mode.values()] == pytest.approx([0.275] * 3)
    assert by_mode["batch"].billed_usd == pytest.approx(0.275), "genai-prices: o4-mini's batch cached rate is full"
    assert by_mode["flex"].billed_usd == pytest.approx(0.138), "its flex price has a cached rate of its own"
    assert by_mode["realtime"].billed_usd == pytest.approx(0.275) and by_mode["realtime"].saving_usd == 0


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    input_tokens=st.integers(0, 10**9),
    cached=st.integers(0, 10**9),
    output_tokens=st.integers(0, 10**8),
    rates=st.tuples(*(st.floats(0, 100, allow_nan=False) for _ in range(3))),
)
def test_without_a_flex_price_of_its_own_flex_bills_as_batch_and_never_above_realtime(
    input_tokens, cached, output_tokens, rates
):
    input_rate, cached_rate, output_rate = rates
    entry = ModelEntry(input=input_rate, cached_input=min(cached_rate, input_rate), output=output_rate)
    profile = ModelTable((("my-flex-model", entry.model_copy(update={"takes_flex": True})),)).profile("my-flex-model")
    usage = TokenUsage(input_tokens=input_tokens, cached_tokens=cached, output_tokens=output_tokens)
    batch, flex, realtime = (cost_of(profile, usage, mode=mode) for mode in ("batch", "flex", "realtime"))
    assert batch.billed_usd == flex.billed_usd == flex.flex_usd
    assert flex.billed_usd <= realtime.billed_usd
