"""Cost control and sharding by themselves: estimates, a cap, a user's price table, limits per file."""

import json

import pytest

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cost import PriceTable, enforce_cap, price_table
from tagging_assets.core.errors import ConfigError, CostCapError
from tagging_assets.core.prompt import SYSTEM_PROMPT
from tagging_assets.core.selection import CacheItem
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import write_shards
from tagging_assets.core.tokens import TokenCounter


def test_120000_requests_become_three_valid_shards(tmp_path):
    items = (
        CacheItem(n, f"v{n}", "A title", f"A short talk number {n} about vector search.", "h", 0, "new")
        for n in range(120_000)
    )
    shards = write_shards(
        items, tmp_path / "requests.jsonl", model="gpt-4o-mini", system_prompt=SYSTEM_PROMPT, counter=TokenCounter()
    )
    assert [shard.requests for shard in shards] == [50_000, 50_000, 20_000]
    audit = audit_input_files(shard.path for shard in shards)
    assert audit.problems == [] and audit.requests == 120_000
    assert all(shard.bytes <= 200 * 1024 * 1024 for shard in shards)


def test_the_price_table_can_be_updated_from_a_file(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"gpt-4o-mini": {"input": 0.30, "output": 1.20}, "my-model": {"input": 1, "output": 2}})
    )
    table = price_table(TaggingSettings.from_env({"TAGGING_PRICING_FILE": str(prices)}).pricing_file)
    assert table.cost_of("gpt-4o-mini", 1_000_000, 0).realtime_usd == pytest.approx(0.30)
    assert table.cost_of("gpt-4o-mini", 1_000_000, 0).batch_usd == pytest.approx(0.15)
    assert table.cost_of("my-model", 0, 1_000_000).realtime_usd == pytest.approx(2.0)
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    with pytest.raises(ConfigError, match=r"TAGGING_PRICING_FILE=.*must be JSON"):
        price_table(broken)


def test_the_cap_refuses_before_anything_is_spent():
    with pytest.raises(CostCapError, match=r"over the cap of \$0.0010"):
        enforce_cap(PriceTable().cost_of("gpt-4o-mini", 100_000, 0), 0.001, "this submission")
    enforce_cap(PriceTable().cost_of("gpt-4o-mini", 100_000, 0), 1.0, "this submission")
