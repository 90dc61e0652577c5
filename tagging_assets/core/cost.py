"""What a job costs: counted tokens before, usage after, at realtime, batch and flex prices.

Prices come from the model's profile (``core/models.py``). A model without a price has no
cost here (None), never another model's: the cap refuses it, and messages say the price is unknown.
"""

from __future__ import annotations

from tagging_assets.core.contracts import Cost, RunMode, TokenUsage
from tagging_assets.core.errors import CostCapError
from tagging_assets.core.models import ModelProfile, ModelTable
from tagging_assets.core.prices import Rates


def usd_at(rates: Rates, usage: TokenUsage) -> float:
    """The usage's price at one tier's rates; cached input at the cached rate where there is one."""
    cached = min(usage.cached_tokens, usage.input_tokens)
    cached_rate = rates.input if rates.cached_input is None else rates.cached_input
    return (
        (usage.input_tokens - cached) * rates.input + cached * cached_rate + usage.output_tokens * rates.output
    ) / 1_000_000


def cost_of(profile: ModelProfile, usage: TokenUsage, *, mode: RunMode = "batch") -> Cost | None:
    """The usage's price at every mode, billed at ``mode``'s; None when the model has no price."""
    prices = profile.prices
    if prices is None:
        return None
    return Cost(
        realtime_usd=usd_at(prices.realtime, usage),
        batch_usd=usd_at(prices.batch, usage),
        flex_usd=usd_at(prices.flex, usage) if prices.flex is not None else None,
        mode=mode,
    )


def expected_cost(
    profile: ModelProfile,
    input_tokens: int,
    requests: int,
    reasoning_effort: str | None = None,
    *,
    mode: RunMode = "batch",
    cached_tokens: int = 0,
) -> Cost | None:
    """What requests are expected to cost before they run: their counted input, ``cached_tokens`` of it at the
    cached rate (a prompt prefix the provider caches), and the replies (reasoning included) the profile expects."""
    output = requests * profile.expected_output_tokens(reasoning_effort)
    usage = TokenUsage(input_tokens=input_tokens, output_tokens=output, cached_tokens=min(cached_tokens, input_tokens))
    return cost_of(profile, usage, mode=mode)


def unknown_price(profile: ModelProfile, table: ModelTable) -> str:
    """The plain words for a model without a price."""
    return f"the price of {profile.model} is unknown (add it to {table.where_to_add()})"


def enforce_cap(cost: Cost | None, cap_usd: float | None, what: str, profile: ModelProfile, table: ModelTable) -> None:
    """Refuse to spend above the cap, before anything is uploaded, at the prices the job's mode bills; with a
    cap, an unknown price is refused too."""
    if cap_usd is None:
        return
    if cost is None:
        raise CostCapError(
            f"{what}: no price for {profile.model}, so TAGGING_MAX_COST_USD=${cap_usd:,.4f} cannot be checked; "
            f'add it to {table.where_to_add()}, e.g. {{"{profile.family}": '
            '{"input": 0.25, "cached_input": 0.025, "output": 2.00}} (USD per million tokens)'
        )
    if cost.billed_usd > cap_usd:
        raise CostCapError(
            f"{what} would cost about ${cost.billed_usd:,.4f} at {cost.mode} prices, over the cap of "
            f"${cap_usd:,.4f} (TAGGING_MAX_COST_USD); raise the cap or tag fewer items"
        )
