"""What a batch costs: counted tokens before, usage after, at batch and realtime prices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tagging_assets.core.errors import ConfigError, CostCapError

REALTIME_PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
}
"""Standard (realtime) USD per million input and output tokens."""

BATCH_DISCOUNT = 0.5
"""The Batch API bills half the realtime price."""

EXPECTED_OUTPUT_TOKENS = 80
"""A tags-and-summary reply runs to about 80 tokens; used only for estimates before submitting."""


@dataclass(frozen=True)
class Cost:
    """One amount of work priced both ways."""

    batch_usd: float
    realtime_usd: float

    @property
    def saving_usd(self) -> float:
        return self.realtime_usd - self.batch_usd


@dataclass(frozen=True)
class PriceTable:
    """Realtime USD per million input and output tokens, by model."""

    prices: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(REALTIME_PRICES_PER_MILLION))

    def cost_of(self, model: str, input_tokens: int, output_tokens: int) -> Cost:
        """The tokens' price at realtime and at batch rates; an unknown model is priced as gpt-4o-mini."""
        input_price, output_price = self.prices.get(model, self.prices["gpt-4o-mini"])
        realtime = (input_tokens * input_price + output_tokens * output_price) / 1_000_000
        return Cost(batch_usd=realtime * BATCH_DISCOUNT, realtime_usd=realtime)

    def expected_cost(self, model: str, input_tokens: int, requests: int) -> Cost:
        """What requests are expected to cost before they run: their counted input, ~80 tokens a reply."""
        return self.cost_of(model, input_tokens, requests * EXPECTED_OUTPUT_TOKENS)


def price_table(pricing_file: Path | None = None) -> PriceTable:
    """The built-in table, updated from the JSON file at ``pricing_file`` (TAGGING_PRICING_FILE)."""
    return _table(str(pricing_file) if pricing_file else None)


@cache
def _table(path: str | None) -> PriceTable:
    if path is None:
        return PriceTable()
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
        extra = {model: (float(p["input"]), float(p["output"])) for model, p in table.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"TAGGING_PRICING_FILE={path} must be JSON like "
            f'{{"gpt-4o-mini": {{"input": 0.15, "output": 0.60}}}} (USD per million tokens): {error}'
        ) from None
    return PriceTable(REALTIME_PRICES_PER_MILLION | extra)


def enforce_cap(cost: Cost, cap_usd: float | None, what: str) -> None:
    """Refuse to spend above the cap, before anything is uploaded."""
    if cap_usd is not None and cost.batch_usd > cap_usd:
        raise CostCapError(
            f"{what} would cost about ${cost.batch_usd:,.4f} at batch prices, over the cap of ${cap_usd:,.4f} "
            "(TAGGING_MAX_COST_USD); raise the cap or tag fewer items"
        )
