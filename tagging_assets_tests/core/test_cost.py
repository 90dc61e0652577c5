"""Cost control and sharding by themselves: estimates, a cap, a user's price table, limits per file."""

import json

import pytest

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.cost import cost_of, enforce_cap, expected_cost
from tagging_assets.core.errors import ConfigError, CostCapError
from tagging_assets.core.models import ModelTable, model_table
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
    assert cost_of(table.profile("gpt-4o-mini"), million_in).realtime_usd == pytest.approx(0.30)
    assert cost_of(table.profile("gpt-4o-mini"), million_in).batch_usd == pytest.approx(0.15)
    assert cost_of(table.profile("my-model"), TokenUsage(output_tokens=1_000_000)).realtime_usd == pytest.approx(2.0)
    newer = table.profile("gpt-5.4-mini")
    assert newer.prices.cached_input == 0.075 and newer.reasoning_efforts[0] == "none", "the family's rules still hold"
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    with pytest.raises(ConfigError, match=r"TAGGING_PRICING_FILE=.*must be JSON"):
        model_table(broken)
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"gpt-5": {"inptu": 1.25}}))
    with pytest.raises(ConfigError, match=r"gpt-5.inptu: Extra inputs are not permitted"):
        model_table(typo)


def test_the_cap_refuses_before_anything_is_spent():
    table = ModelTable()
    profile = table.profile("gpt-4o-mini")
    with pytest.raises(CostCapError, match=r"over the cap of \$0.0010"):
        enforce_cap(expected_cost(profile, 100_000, 1), 0.001, "this submission", profile, table)
    enforce_cap(expected_cost(profile, 100_000, 1), 1.0, "this submission", profile, table)


def test_an_unknown_model_has_no_price_and_a_cap_refuses_it():
    table = ModelTable()
    unknown = table.profile("gpt-5.4-mini")
    assert unknown.prices is None and cost_of(unknown, TokenUsage(input_tokens=10)) is None
    with pytest.raises(CostCapError) as refused:
        enforce_cap(expected_cost(unknown, 100, 1), 5.0, "requests.jsonl", unknown, table)
    assert "no price for gpt-5.4-mini" in str(refused.value)
    assert "TAGGING_PRICING_FILE" in str(refused.value)
    enforce_cap(expected_cost(unknown, 100, 1), None, "requests.jsonl", unknown, table)


def test_cached_input_is_priced_at_the_cached_rate_and_reasoning_as_output():
    profile = ModelTable().profile("gpt-5-mini-2025-08-07")
    assert profile.family == "gpt-5-mini", "a dated snapshot resolves to its family"
    usage = TokenUsage(input_tokens=1_000_000, cached_tokens=400_000, output_tokens=100_000, reasoning_tokens=60_000)
    cost = cost_of(profile, usage)
    assert cost.realtime_usd == pytest.approx(0.6 * 0.25 + 0.4 * 0.025 + 0.1 * 2.00)
    assert cost.batch_usd == pytest.approx(cost.realtime_usd / 2)
