"""Gemini's model profiles: thinking as low as each family allows, room for it, flex, and genai-prices' rates."""

import json
import re

import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import REPLY_TOKENS, ModelTable, model_table
from tagging_assets.core.prices import Rates
from tagging_assets.core.thinking import THINKING_EFFORTS, Thinking, thinking_for


@pytest.mark.parametrize(
    ("model", "thinking", "max_output_tokens", "temperature"),
    [
        ("gemini-2.5-flash-lite", Thinking(budget=0), REPLY_TOKENS, 0.2),
        ("gemini-2.5-flash", Thinking(budget=0), REPLY_TOKENS, 0.2),
        ("gemini-2.5-flash-preview-09-2025", Thinking(budget=0), REPLY_TOKENS, 0.2),
        ("gemini-2.5-pro", Thinking(budget=128), REPLY_TOKENS + 128 + 1_000, 0.2),
        ("gemini-3-flash-preview", Thinking(level="minimal"), REPLY_TOKENS + 1_000, None),
        ("gemini-3-pro-preview", Thinking(level="low"), REPLY_TOKENS + 4_000, None),
        ("gemini-3.7-flash", Thinking(level="low"), REPLY_TOKENS + 4_000, None),
        ("gemini-2.0-flash", None, REPLY_TOKENS, 0.2),
    ],
)
def test_each_gemini_family_thinks_as_little_as_it_allows_unless_asked(model, thinking, max_output_tokens, temperature):
    profile = ModelTable().profile(model)
    options = profile.request_options()
    assert (options.thinking, options.max_output_tokens, options.temperature) == (
        thinking,
        max_output_tokens,
        temperature,
    )
    assert profile.json_output == "schema" and profile.takes_flex is (thinking is not None)


def test_an_effort_raises_thinking_and_leaves_room_for_the_reply_within_the_models_limit():
    table = ModelTable()
    flash = table.profile("gemini-2.5-flash").request_options("medium")
    assert flash.thinking == Thinking(budget=8_192) and flash.max_output_tokens == 8_192 + 1_000 + REPLY_TOKENS
    pro = table.profile("gemini-2.5-pro").request_options("high")
    assert pro.thinking == Thinking(budget=32_768) and pro.max_output_tokens <= 65_536
    assert pro.max_output_tokens - 32_768 >= REPLY_TOKENS
    three = table.profile("gemini-3-flash-preview").request_options("high")
    assert three.thinking == Thinking(level="high") and three.max_output_tokens == REPLY_TOKENS + 25_000


@pytest.mark.parametrize(
    ("model", "effort", "accepted"),
    [
        ("gemini-2.5-pro", "none", "minimal, low, medium, high"),
        ("gemini-3-pro-preview", "minimal", "low, high"),
        ("gemini-3-flash-preview", "none", "minimal, low, medium, high"),
    ],
)
def test_an_effort_a_family_cannot_take_is_refused_naming_those_it_can(model, effort, accepted):
    with pytest.raises(ConfigError, match=re.escape(f"TAGGING_REASONING_EFFORT={effort}: {model} accepts {accepted}")):
        ModelTable().profile(model).request_options(effort)


def test_gemini_2_0_flash_does_not_think_so_an_effort_is_refused():
    with pytest.raises(ConfigError, match=re.escape("gemini-2.0-flash is not a reasoning model")):
        ModelTable().profile("gemini-2.0-flash").request_options("low")


@pytest.mark.parametrize("style", list(THINKING_EFFORTS))
def test_every_effort_a_style_takes_maps_to_a_budget_in_range_or_a_level(style):
    for effort in THINKING_EFFORTS[style]:
        thinking = thinking_for(style, effort)
        assert (thinking.budget is None) != (thinking.level is None)
        if style == "pro-budget":
            assert thinking.budget is not None and 128 <= thinking.budget <= 32_768
        if style == "flash-budget":
            assert thinking.budget is not None and (thinking.budget == 0 or 512 <= thinking.budget <= 24_576)


def test_gemini_2_5_flash_lite_is_priced_by_genai_prices_with_batch_and_flex_at_half():
    profile = ModelTable().profile("gemini-2.5-flash-lite")
    assert profile.prices is not None and profile.family == "gemini-2.5-flash-lite"
    assert (profile.prices.realtime.input, profile.prices.realtime.output) == (0.10, 0.40)
    assert (profile.prices.batch.input, profile.prices.batch.output) == (0.05, 0.20)
    assert profile.prices.at("flex") == profile.prices.batch


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-flash-preview", "gemini-2.0-flash"])
def test_every_gemini_family_has_a_price_and_batch_is_cheaper(model):
    prices = ModelTable().profile(model).prices
    assert prices is not None and isinstance(prices.batch, Rates)
    assert prices.batch.output == pytest.approx(prices.realtime.output / 2)


def test_a_pricing_file_may_set_a_gemini_models_thinking_and_output_limit(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gemini-9-flash": {"thinking": "flash-budget", "output_limit": 200}}))
    options = model_table(path).profile("gemini-9-flash").request_options("low")
    assert options.thinking == Thinking(budget=1_024) and options.max_output_tokens == 200
