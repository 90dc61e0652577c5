"""What a batch costs: token estimates before, usage after, at batch and realtime prices."""

from __future__ import annotations

import math
from dataclasses import dataclass

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

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REQUEST = 3


@dataclass(frozen=True)
class Cost:
    """One amount of work priced both ways."""

    batch_usd: float
    realtime_usd: float

    @property
    def saving_usd(self) -> float:
        return self.realtime_usd - self.batch_usd


def estimate_tokens(text: str) -> int:
    """Tokens in English text by OpenAI's rule of thumb: about four characters each."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_request_tokens(messages: list[dict[str, str]]) -> int:
    """Input tokens of a chat request: its messages plus the framing each message and request adds."""
    return TOKENS_PER_REQUEST + sum(TOKENS_PER_MESSAGE + estimate_tokens(m.get("content", "")) for m in messages)


def cost_of(model: str, input_tokens: int, output_tokens: int) -> Cost:
    """The price of the tokens at realtime and at batch rates; an unknown model is priced as gpt-4o-mini."""
    input_price, output_price = REALTIME_PRICES_PER_MILLION.get(model, REALTIME_PRICES_PER_MILLION["gpt-4o-mini"])
    realtime = (input_tokens * input_price + output_tokens * output_price) / 1_000_000
    return Cost(batch_usd=realtime * BATCH_DISCOUNT, realtime_usd=realtime)
