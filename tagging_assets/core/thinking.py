"""Gemini's thinking, as tagging wants it: as little as the model allows, raised by TAGGING_REASONING_EFFORT.

Gemini 2.5 models take a token budget (``thinkingBudget``), Gemini 3 models a level (``thinkingLevel``).
google-genai's ``ThinkingConfig`` says only that "0 is DISABLED, -1 is AUTOMATIC" and that ranges are model
dependent (types.py); the ranges are Google's thinking guide's (ai.google.dev/gemini-api/docs/thinking,
"Thinking budgets"): 2.5 Pro 128 to 32,768 and cannot be turned off; 2.5 Flash 0 to 24,576; 2.5 Flash-Lite 0, or
512 to 24,576. Gemini 3 Flash takes ``minimal``, ``low``, ``medium`` and ``high`` (Google's Gemini 3 Flash model
page); Gemini 3 Pro only ``low`` and ``high``, and later Gemini 3 models are held to those two as well until their
levels are confirmed (Gemini 3.7 Flash's guide names ``low``, ``medium`` and ``high``, without ``minimal``).

TAGGING_REASONING_EFFORT maps onto them so:

============  ==========  ===============  ==========  ========================
effort        2.5 Flash   2.5 Flash-Lite   2.5 Pro     Gemini 3 (level)
============  ==========  ===============  ==========  ========================
none          0 (off)     0 (off)          --          --
minimal       512         512              128         minimal (3 Flash only)
low           1,024       1,024            1,024       low
medium        8,192       8,192            8,192       medium (3 Flash only)
high          24,576      24,576           32,768      high
============  ==========  ===============  ==========  ========================

Unset, a family thinks at its lowest (the first row it has). A level has no token count, so its room in the
output limit is the one OpenAI's efforts of the same name get (``REASONING_ALLOWANCE``); a budget's room is the
budget and 1,000 tokens over (a model may overrun it a little), since thoughts count against ``maxOutputTokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ThinkingStyle = Literal["flash-budget", "pro-budget", "flash-level", "pro-level"]
"""How a Gemini family thinks: a budget that may be 0 (2.5 Flash, Flash-Lite), a budget of at least 128
(2.5 Pro), or a level (Gemini 3 Flash, which takes ``minimal``; every other Gemini 3 model, from ``low``)."""

THINKING_EFFORTS: dict[ThinkingStyle, tuple[str, ...]] = {
    "flash-budget": ("none", "minimal", "low", "medium", "high"),
    "pro-budget": ("minimal", "low", "medium", "high"),
    "flash-level": ("minimal", "low", "medium", "high"),
    "pro-level": ("low", "high"),
}
"""The TAGGING_REASONING_EFFORT values each style accepts, lowest first."""

_FLASH_BUDGETS = {"none": 0, "minimal": 512, "low": 1_024, "medium": 8_192, "high": 24_576}
_PRO_BUDGETS = {"minimal": 128, "low": 1_024, "medium": 8_192, "high": 32_768}


@dataclass(frozen=True, slots=True)
class Thinking:
    """How much a Gemini request may think: a token ``budget`` (Gemini 2.5) or a ``level`` (Gemini 3), never
    both. The wire seam spells it as ``generationConfig.thinkingConfig``."""

    budget: int | None = None
    level: Literal["minimal", "low", "medium", "high"] | None = None


_LEVELS = {
    "minimal": Thinking(level="minimal"),
    "low": Thinking(level="low"),
    "medium": Thinking(level="medium"),
    "high": Thinking(level="high"),
}


def thinking_for(style: ThinkingStyle, effort: str) -> Thinking:
    """The thinking an effort asks of a family; ``effort`` is one ``THINKING_EFFORTS[style]`` accepts."""
    if style == "flash-budget":
        return Thinking(budget=_FLASH_BUDGETS[effort])
    if style == "pro-budget":
        return Thinking(budget=_PRO_BUDGETS[effort])
    return _LEVELS[effort]
