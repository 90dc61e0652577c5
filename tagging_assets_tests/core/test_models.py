"""Model profiles: families, not names, decide what a request carries and whether it takes flex; a dated
snapshot is its family; genai-prices prices them."""

import genai_prices
import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import ModelTable, RequestOptions, model_table
from tagging_assets.core.prices import Prices, Rates
from tagging_assets.core.protocol import MESSAGES
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.wire import builder_for


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        ("gpt-4o-mini", None, RequestOptions("gpt-4o-mini", 300, 0.2, None)),
        ("gpt-4.1-nano-2025-04-14", None, RequestOptions("gpt-4.1-nano-2025-04-14", 300, 0.2, None)),
        ("gpt-5-mini", None, RequestOptions("gpt-5-mini", 1_300, None, "minimal")),
        ("gpt-5-mini-2025-08-07", "medium", RequestOptions("gpt-5-mini-2025-08-07", 12_300, None, "medium")),
        ("gpt-5.1", None, RequestOptions("gpt-5.1", 300, 0.2, "none")),
        ("gpt-5.1", "low", RequestOptions("gpt-5.1", 4_300, None, "low")),
        ("gpt-5.4-mini", None, RequestOptions("gpt-5.4-mini", 300, 0.2, "none")),
        ("gpt-5.2", "xhigh", RequestOptions("gpt-5.2", 50_300, None, "xhigh")),
        ("gpt-5.5-2026-04-23", "high", RequestOptions("gpt-5.5-2026-04-23", 25_300, None, "high")),
        ("gpt-5.6-terra", None, RequestOptions("gpt-5.6-terra", 300, 0.2, "none")),
        ("gpt-5.3-chat-latest", None, RequestOptions("gpt-5.3-chat-latest", 300, None, None)),
        ("o4-mini", None, RequestOptions("o4-mini", 4_300, None, "low")),
        ("gpt-5-pro", None, RequestOptions("gpt-5-pro", 25_300, None, "high")),
        ("some-new-model", None, RequestOptions("some-new-model", 4_300, None, None)),
    ],
)
def test_the_family_decides_what_a_request_carries(model, effort, expected):
    assert ModelTable().profile(model).request_options(effort) == expected


@pytest.mark.parametrize(
    ("model", "effort", "problem"),
    [
        ("gpt-5-mini", "none", "gpt-5-mini accepts minimal, low, medium, high"),
        ("gpt-5.1", "xhigh", "gpt-5.1 accepts none, low, medium, high"),
        ("gpt-5.6-luna", "xhigh", "gpt-5.6-luna accepts none, low, medium, high"),
        ("gpt-5.4-nano", "minimal", "gpt-5.4-nano accepts none, low, medium, high, xhigh"),
        ("gpt-5.3-chat-latest", "low", "gpt-5.3-chat-latest is not a reasoning model"),
        ("o3", "minimal", "o3 accepts low, medium, high"),
        ("gpt-4o-mini", "low", "gpt-4o-mini is not a reasoning model"),
    ],
)
def test_an_effort_the_family_refuses_is_a_config_error_naming_the_variable(model, effort, problem):
    settings = TaggingSettings.from_env({"TAGGING_MODEL": model, "TAGGING_REASONING_EFFORT": effort})
    with pytest.raises(ConfigError) as refused:
        ModelTable().profile(settings.model).request_options(settings.reasoning_effort)
    assert f"TAGGING_REASONING_EFFORT={effort}" in str(refused.value) and problem in str(refused.value)


@pytest.mark.parametrize(
    ("model", "realtime", "batch", "flex"),
    [
        ("gpt-5.4-mini", Rates(0.75, 0.075, 4.50), Rates(0.375, 0.0375, 2.25), Rates(0.375, 0.0375, 2.25)),
        ("claude-haiku-4-5-20251001", Rates(1.00, 0.10, 5.00), Rates(0.50, 0.05, 2.50), None),
        ("gpt-4o-mini", Rates(0.15, 0.075, 0.60), Rates(0.075, 0.075, 0.30), None),
        ("o4-mini", Rates(1.10, 0.275, 4.40), Rates(0.55, 0.275, 2.20), Rates(0.55, 0.138, 2.20)),
    ],
)
def test_current_models_are_priced_by_genai_prices_at_every_mode(model, realtime, batch, flex):
    profile = ModelTable().profile(model)
    assert profile.prices == Prices(realtime, batch, flex)
    assert (
        profile.source == f"genai-prices {genai_prices.__version__} (pydantic/genai-prices data bundled with the "
        "package, which carries no snapshot date)"
    )
    assert profile.family == model.removesuffix("-20251001"), "a dated snapshot is priced as its model"


def test_a_model_genai_prices_does_not_know_gets_no_price():
    table = ModelTable()
    for model in ("my-model", "gpt-5.7", "claude-unreleased"):
        profile = table.profile(model)
        assert profile.prices is None and profile.source is None and profile.family == model
    assert table.profile("gpt-5-mini-2025-08-07").prices == table.profile("gpt-5-mini").prices


@pytest.mark.parametrize(
    "model",
    [
        "o3", "o4-mini-2025-04-16", "gpt-5", "gpt-5-mini", "gpt-5-nano-2025-08-07", "gpt-5.1", "gpt-5.2",
        "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.5", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna",
    ],
)  # fmt: skip
def test_these_families_take_flex_and_have_a_flex_price(model):
    profile = ModelTable().profile(model)
    assert profile.takes_flex and profile.prices.flex is not None
    assert profile.prices.flex.output <= profile.prices.realtime.output


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-chat-latest",
        "gpt-5.3-chat-latest", "gpt-5-pro", "gpt-5.2-pro", "o3-mini", "claude-haiku-4-5", "claude-opus-4-8",
    ],
)  # fmt: skip
def test_these_do_not_take_flex(model):
    profile = ModelTable().profile(model)
    assert not profile.takes_flex and profile.prices is not None and profile.prices.flex is None


def test_claude_models_are_priced_and_their_snapshots_resolve():
    table = ModelTable()
    haiku = table.profile("claude-haiku-4-5-20251001")
    assert haiku.family == "claude-haiku-4-5" and haiku.reasons is False
    assert haiku.request_options().temperature == 0.2
    assert table.profile("claude-opus-4-8").request_options().temperature is None, "no sampling parameters"


@pytest.mark.parametrize(
    ("model", "json_output"),
    [
        ("claude-haiku-4-5", "schema"),
        ("claude-sonnet-4-5-20250929", "schema"),
        ("claude-opus-4-8", "schema"),
        ("claude-opus-4-1", "tool"),
        ("claude-3-5-haiku-20241022", "tool"),
        ("gpt-4o-mini", "schema"),
    ],
)
def test_claude_models_before_4_5_get_their_json_through_a_forced_tool(model, json_output):
    options = model_table().profile(model).request_options()
    assert options.json_output == json_output
    if not model.startswith("claude"):
        return
    params = builder_for(MESSAGES).request("youtube-3ax", options, "Tag it.", "Title: T\n\ntext").params
    assert (params.system, params.messages, params.max_tokens) == (
        "Tag it.",
        [{"role": "user", "content": "Title: T\n\ntext"}],
        300,
    )
    if json_output == "tool":
        assert params.output_config is None and params.tool_choice == {
            "type": "tool",
            "name": "video_tags",
            "disable_parallel_tool_use": True,
        }
        assert params.tools and params.tools[0]["input_schema"]["required"] == ["tags", "summary"]
    else:
        assert params.tools is None and params.output_config["format"]["type"] == "json_schema"
