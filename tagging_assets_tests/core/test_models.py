"""Model profiles: families, not names, decide what a request carries; a dated snapshot is its family."""

import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import ModelTable, RequestOptions, model_table
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
        ("o3", "minimal", "o3 accepts low, medium, high"),
        ("gpt-4o-mini", "low", "gpt-4o-mini is not a reasoning model"),
    ],
)
def test_an_effort_the_family_refuses_is_a_config_error_naming_the_variable(model, effort, problem):
    settings = TaggingSettings.from_env({"TAGGING_MODEL": model, "TAGGING_REASONING_EFFORT": effort})
    with pytest.raises(ConfigError) as refused:
        ModelTable().profile(settings.model).request_options(settings.reasoning_effort)
    assert f"TAGGING_REASONING_EFFORT={effort}" in str(refused.value) and problem in str(refused.value)


def test_prices_come_with_their_source_and_an_unpriced_model_gets_none():
    table = ModelTable()
    for model in ("gpt-4o-mini", "gpt-4.1", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "o3", "o4-mini"):
        profile = table.profile(model)
        assert profile.prices is not None and profile.prices.cached_input is not None
        assert profile.source and "LiteLLM" in profile.source
    assert table.profile("o3-mini").prices is None, "o3-mini is not priced as o3"
    assert table.profile("gpt-5-mini-2025-08-07").prices == table.profile("gpt-5-mini").prices


def test_claude_models_are_priced_from_anthropics_page_and_their_snapshots_resolve():
    table = ModelTable()
    haiku = table.profile("claude-haiku-4-5-20251001")
    assert haiku.family == "claude-haiku-4-5" and haiku.reasons is False
    assert (haiku.prices.input, haiku.prices.cached_input, haiku.prices.output) == (1.00, 0.10, 5.00)
    assert haiku.source and "Anthropic" in haiku.source
    assert haiku.request_options().temperature == 0.2
    assert table.profile("claude-opus-4-8").request_options().temperature is None, "no sampling parameters"
    assert table.profile("claude-sonnet-5").prices is None, "an unlisted Claude is not priced as another"


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
