"""Gemini in the settings: its credentials and their precedence, the provider inferred from them, its one
endpoint, flex, and the local gateway's URL when no credentials are set. No process is started."""

import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.core.settings import CREDENTIAL_VARIABLES, PROVIDER_NAMES, TaggingSettings
from tagging_assets.core.settings_reference import variables


@pytest.mark.parametrize(
    "environ",
    [
        {"GEMINI_API_KEY": "g-key"},
        {"GOOGLE_API_KEY": "g-key"},
        {"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:1"},
        {"TAGGING_PROVIDER": "gemini"},
    ],
)
def test_gemini_is_the_provider_its_credentials_or_its_name_say_and_asks_for_flash_lite(environ):
    settings = TaggingSettings.from_env(environ)
    assert settings.batch_provider == "gemini"
    assert (settings.model, settings.endpoint) == ("gemini-2.5-flash-lite", GENERATE_CONTENT)


def test_google_api_key_wins_over_gemini_api_key_as_in_google_genai():
    both = TaggingSettings.from_env({"GEMINI_API_KEY": "gemini-key", "GOOGLE_API_KEY": "google-key"})
    assert both.batch_api_key == "google-key"
    assert TaggingSettings.from_env({"GEMINI_API_KEY": "gemini-key"}).batch_api_key == "gemini-key"
    empty_google = TaggingSettings.from_env({"GOOGLE_API_KEY": "", "GEMINI_API_KEY": "gemini-key"})
    assert empty_google.batch_api_key == "gemini-key", "google-genai treats an empty key as none"


def test_gemini_with_a_key_talks_to_googles_host_or_the_one_set():
    settings = TaggingSettings.from_env({"GEMINI_API_KEY": "g-key"})
    assert not settings.uses_local_gateway and settings.backend == "api"
    assert settings.batch_api_url is None, "the SDK's own host"
    chosen = TaggingSettings.from_env({"GEMINI_API_KEY": "k", "GOOGLE_GEMINI_BASE_URL": "https://proxy.example"})
    assert chosen.batch_api_url == "https://proxy.example"


def test_gemini_without_credentials_talks_to_the_local_gateways_root():
    settings = TaggingSettings.from_env({"TAGGING_PROVIDER": "gemini", "TAGGING_GATEWAY_URL": "http://127.0.0.1:9/v1"})
    assert settings.uses_local_gateway and settings.backend == "offline-tagger"
    assert settings.batch_api_url == "http://127.0.0.1:9"
    assert settings.batch_api_key == "sk-local-gateway"


def test_gemini_takes_every_mode_flex_included():
    for mode in ("batch", "flex", "realtime", "auto"):
        assert TaggingSettings.from_env({"GEMINI_API_KEY": "k", "TAGGING_MODE": mode}).mode == mode


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"GEMINI_API_KEY": "k", "TAGGING_ENDPOINT": "/v1/chat/completions"},
            "TAGGING_ENDPOINT: /v1/chat/completions is not an endpoint of gemini's Batch API; expected "
            f"{GENERATE_CONTENT}",
        ),
        (
            {"GEMINI_API_KEY": "k", "TAGGING_ENDPOINT": "/v1/messages"},
            "TAGGING_ENDPOINT: /v1/messages is not an endpoint of gemini's Batch API",
        ),
        (
            {"TAGGING_ENDPOINT": GENERATE_CONTENT},
            f"TAGGING_ENDPOINT: {GENERATE_CONTENT} is not an endpoint of openai's Batch API",
        ),
        (
            {"ANTHROPIC_API_KEY": "a", "TAGGING_ENDPOINT": GENERATE_CONTENT},
            f"TAGGING_ENDPOINT: {GENERATE_CONTENT} is not an endpoint of anthropic's Batch API; expected /v1/messages",
        ),
        (
            {"OPENAI_API_KEY": "sk-x", "GEMINI_API_KEY": "k"},
            "TAGGING_PROVIDER: credentials are set for openai and gemini; choose one with TAGGING_PROVIDER",
        ),
        (
            {"ANTHROPIC_API_KEY": "a", "TAGGING_MODE": "flex"},
            "TAGGING_MODE: flex is OpenAI's, Azure's and Gemini's; anthropic takes batch, realtime or auto",
        ),
    ],
)
def test_a_setting_gemini_cannot_take_is_one_line_naming_what_to_set(environ, message):
    with pytest.raises(ConfigError) as refused:
        TaggingSettings.from_env(environ)
    assert message in str(refused.value)


def test_gemini_named_where_messages_name_providers():
    assert PROVIDER_NAMES["gemini"] == "Gemini's Batch API"
    assert CREDENTIAL_VARIABLES["gemini"] == ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY")
    chosen = TaggingSettings.from_env({"GEMINI_API_KEY": "k", "TAGGING_MODEL": "gemini-2.5-pro"})
    assert chosen.model == "gemini-2.5-pro" and chosen.deployment == "gemini-2.5-pro"


def test_every_providers_credential_variables_are_ones_the_settings_read():
    read = {name for variable in variables(TaggingSettings) for name in variable.names}
    assert set(CREDENTIAL_VARIABLES) == {"openai", "azure", "anthropic", "gemini"}
    assert all(url in read and key in read for url, key in CREDENTIAL_VARIABLES.values())
