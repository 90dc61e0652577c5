"""What a model costs: its rates at each run mode, from the genai-prices package (pydantic/genai-prices), whose
data its maintainers keep up to date, so that no price list is copied here by hand. The model profiles
(``models.py``) take a user's TAGGING_PRICING_FILE entry first, and these where it gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import genai_prices
from genai_prices.types import ModelPrice, TieredPrices

from tagging_assets.core.contracts import RunMode

GENAI_PRICES_SOURCE = (
    f"genai-prices {genai_prices.__version__} (pydantic/genai-prices data bundled with the package, which "
    "carries no snapshot date)"
)
BATCH_DISCOUNT = 0.5
"""The Batch API bills half the realtime price. Used where no source gives a batch price: a
TAGGING_PRICING_FILE entry without ``batch_input``/``batch_output``, or a model genai-prices has no batch
price for."""


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens at one tier; a model without a cached rate bills cached input at the input rate."""

    input: float
    cached_input: float | None
    output: float


@dataclass(frozen=True, slots=True)
class Prices:
    """A model's rates at each run mode: realtime at standard prices, batch at the Batch API's, and flex (for a
    model that takes it; flex is priced at Batch API rates where the source gives no flex price of its own)."""

    realtime: Rates
    batch: Rates
    flex: Rates | None

    def at(self, mode: RunMode) -> Rates:
        """The rates a mode bills. A flex price for a model without one is the batch price: OpenAI bills flex
        at Batch API rates, so a response that says it was served at flex costs that."""
        if mode == "realtime":
            return self.realtime
        if mode == "flex" and self.flex is not None:
            return self.flex
        return self.batch


def batch_discounted(rates: Rates) -> Rates:
    """The Batch API's half price, where no source gives a batch price."""
    cached = None if rates.cached_input is None else rates.cached_input * BATCH_DISCOUNT
    return Rates(rates.input * BATCH_DISCOUNT, cached, rates.output * BATCH_DISCOUNT)


@cache
def genai_prices_of(model: str, takes_flex: bool) -> tuple[str, Prices] | None:
    """The model's name and prices in genai-prices, matched its way (a dated snapshot finds its model), or None
    where it has none. Its batch and flex prices are price variants, read by asking for a price in that context;
    a model without a batch variant is billed half in batch, and one that takes flex but has no flex variant is
    billed the batch price. Prices for prompts above a size threshold (gpt-5.4's 272k tokens) are not used: a
    tagging request is far below it, and usage here is summed over many requests."""
    try:
        standard = genai_prices.calc_price(_NO_USAGE, model)
    except LookupError:
        return None
    batch = genai_prices.calc_price(_NO_USAGE, model, price_context={"processing": "batch"}).model_price
    flex = genai_prices.calc_price(_NO_USAGE, model, price_context={"service_tier": "flex"}).model_price
    realtime_rates = _rates(standard.model_price)
    if realtime_rates is None:
        return None
    batch_rates = (_rates(batch) if batch != standard.model_price else None) or batch_discounted(realtime_rates)
    flex_rates = None
    if takes_flex:
        flex_rates = (_rates(flex) if flex != standard.model_price else None) or batch_rates
    return standard.model.id, Prices(realtime_rates, batch_rates, flex_rates)


_NO_USAGE = genai_prices.Usage(input_tokens=0, output_tokens=0)


def _rates(price: ModelPrice) -> Rates | None:
    """Per-million-token rates of a genai-prices price, at the base of any size tiers; None without both an
    input and an output price (an image or audio model)."""
    input_, cached, output = (_base(price.input_mtok), _base(price.cache_read_mtok), _base(price.output_mtok))
    if input_ is None or output is None:
        return None
    return Rates(input_, cached, output)


def _base(price: Decimal | TieredPrices | None) -> float | None:
    if price is None:
        return None
    return float(price.base if isinstance(price, TieredPrices) else price)
