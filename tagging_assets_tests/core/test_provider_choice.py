"""How the provider is chosen: the one ``TAGGING_PROVIDER`` names, else the one whose credentials are set, and one
line naming what to set when that is unclear."""

import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import TaggingSettings


@pytest.mark.parametrize(
    ("environ", "provider"),
    [
        ({}, "openai"),
        ({"OPENAI_API_KEY": "sk-x"}, "openai"),
        ({"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}, "azure"),
        ({"TAGGING_PROVIDER": "azure"}, "azure"),
        ({"OPENAI_API_KEY": "sk-x", "AZURE_OPENAI_API_KEY": "k", "TAGGING_PROVIDER": "openai"}, "openai"),
        ({"ANTHROPIC_API_KEY": "sk-ant-x"}, "anthropic"),
        ({"ANTHROPIC_BASE_URL": "http://127.0.0.1:1"}, "anthropic"),
        ({"TAGGING_PROVIDER": "anthropic"}, "anthropic"),
    ],
)
def test_the_provider_is_the_one_named_or_the_one_with_credentials(environ, provider):
    assert TaggingSettings.from_env(environ).batch_provider == provider


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {
                "OPENAI_API_KEY": "sk-x",
                "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
                "AZURE_OPENAI_API_KEY": "k",
            },
            "TAGGING_PROVIDER: credentials are set for openai and azure; choose one with TAGGING_PROVIDER",
        ),
        (
            {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com", "TAGGING_PROVIDER": "azure"},
            "AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not",
        ),
        ({"TAGGING_PROVIDER": "bedrock"}, "TAGGING_PROVIDER: Input should be 'openai', 'azure' or 'anthropic'"),
        (
            {"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-ant-x"},
            "TAGGING_PROVIDER: credentials are set for openai and anthropic; choose one with TAGGING_PROVIDER",
        ),
        (
            {"ANTHROPIC_API_KEY": "sk-ant-x", "TAGGING_ENDPOINT": "/v1/chat/completions"},
            "TAGGING_ENDPOINT: /v1/chat/completions is not an endpoint of anthropic's Batch API; expected /v1/messages",
        ),
        (
            {"TAGGING_ENDPOINT": "/v1/messages"},
            "TAGGING_ENDPOINT: /v1/messages is not an endpoint of openai's Batch API",
        ),
    ],
)
def test_an_unclear_provider_is_one_line_naming_what_to_set(environ, message):
    with pytest.raises(ConfigError) as refused:
        TaggingSettings.from_env(environ)
    assert message in str(refused.value)
