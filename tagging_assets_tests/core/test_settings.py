"""The settings: the variables they are read from, what a variable left unset or empty means, how the provider is
chosen, and one line naming the variable for every value refused. No process is started."""

import pytest
from pydantic import SecretStr

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import DEFAULTS, TaggingSettings
from tagging_assets.core.settings_reference import variables

VARIABLES = frozenset(
    [
        "TAGGING_PROVIDER",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "OPENAI_API_VERSION",
        "TAGGING_AZURE_DEPLOYMENT",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GEMINI_BASE_URL",
        "TAGGING_GATEWAY_URL",
        "TAGGING_GATEWAY_STATE_DIR",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "QDRANT_PATH",
        "TAGGING_COLLECTION",
        "TAGGING_MODEL",
        "TAGGING_ENDPOINT",
        "TAGGING_REASONING_EFFORT",
        "TAGGING_MODE",
        "TAGGING_REALTIME_BELOW",
        "TAGGING_MAX_REQUESTS_PER_MINUTE",
        "TAGGING_MAX_TOKENS_PER_MINUTE",
        "TAGGING_MAX_CONCURRENCY",
        "TAGGING_AZURE_REALTIME_DEPLOYMENT",
        "TAGGING_FILE_TTL_DAYS",
        "TAGGING_WORK_DIR",
        "TAGGING_MAX_ATTEMPTS",
        "TAGGING_MAX_TRANSCRIPT_TOKENS",
        "TAGGING_MAX_REQUESTS_PER_FILE",
        "TAGGING_MAX_COST_USD",
        "TAGGING_ENQUEUED_TOKEN_LIMIT",
        "TAGGING_PRICING_FILE",
        "TAGGING_PROMPT_FILE",
        "TAGGING_TAG_ALIASES",
        "TAGGING_VOCABULARY",
        "TAGGING_VOCABULARY_SIZE",
        "TAGGING_VOCABULARY_FILE",
        "TAGGING_MAX_SINGLE_VIDEO_TAG_SHARE",
        "TAGGING_MAX_NEAR_DUPLICATE_GROUPS",
        "TAGGING_STUCK_AFTER_SECONDS",
        "TAGGING_SUBMIT_CRON",
        "DAGSTER_HOME",
        "TIKTOKEN_CACHE_DIR",
        "DATA_GYM_CACHE_DIR",
    ]
)
"""The variables users set: a contract, so renaming one is a change made on purpose."""


def test_the_settings_read_the_variables_users_set_and_each_says_what_it_is_for():
    declared = variables(TaggingSettings)
    assert {name for variable in declared for name in variable.names} == VARIABLES
    assert all(variable.description.strip() for variable in declared)


def test_every_variable_reaches_its_setting():
    settings = TaggingSettings.from_env(
        {
            "QDRANT_URL": "http://qdrant:6333",
            "QDRANT_API_KEY": "qdrant-key",
            "QDRANT_PATH": "/data/qdrant",
            "TAGGING_COLLECTION": "talks",
            "TAGGING_MODEL": "gpt-5-mini",
            "TAGGING_ENDPOINT": "/v1/responses",
            "TAGGING_REASONING_EFFORT": "low",
            "TAGGING_FILE_TTL_DAYS": "2",
            "TAGGING_WORK_DIR": "/work",
            "TAGGING_MAX_ATTEMPTS": "5",
            "TAGGING_MAX_TRANSCRIPT_TOKENS": "1000",
            "TAGGING_MAX_REQUESTS_PER_FILE": "10",
            "TAGGING_MAX_COST_USD": "1.5",
            "TAGGING_ENQUEUED_TOKEN_LIMIT": "90000",
            "TAGGING_PRICING_FILE": "/prices.json",
            "TAGGING_STUCK_AFTER_SECONDS": "60",
            "TAGGING_SUBMIT_CRON": "*/15 * * * *",
            "TAGGING_GATEWAY_URL": "http://127.0.0.1:9000/v1",
            "TAGGING_GATEWAY_STATE_DIR": "/gateway",
            "DAGSTER_HOME": "/dagster",
            "DATA_GYM_CACHE_DIR": "/encodings",
        }
    )
    assert settings.model_dump(mode="json", exclude={"qdrant_api_key"}) == {
        **DEFAULTS.model_dump(mode="json", exclude={"qdrant_api_key"}),
        "qdrant_url": "http://qdrant:6333",
        "qdrant_path": "/data/qdrant",
        "collection": "talks",
        "model": "gpt-5-mini",
        "endpoint": "/v1/responses",
        "reasoning_effort": "low",
        "file_ttl_days": 2.0,
        "work_dir": "/work",
        "max_attempts": 5,
        "max_transcript_tokens": 1000,
        "max_requests_per_file": 10,
        "max_cost_usd": 1.5,
        "enqueued_token_limit": 90000,
        "pricing_file": "/prices.json",
        "stuck_after_seconds": 60.0,
        "submit_cron": "*/15 * * * *",
        "gateway_url": "http://127.0.0.1:9000/v1",
        "gateway_state_dir": "/gateway",
        "dagster_home": "/dagster",
        "tiktoken_cache_dir": "/encodings",
    }
    assert settings.qdrant_api_key == SecretStr("qdrant-key")


def test_a_secret_never_shows_in_the_settings_printed():
    settings = TaggingSettings.from_env({"OPENAI_API_KEY": "sk-secret", "QDRANT_API_KEY": "qdrant-secret"})
    assert "secret" not in repr(settings) and "secret" not in str(settings.model_dump())
    assert settings.batch_api_key == "sk-secret"


def test_an_empty_variable_is_unset():
    settings = TaggingSettings.from_env({"TAGGING_MODEL": "", "OPENAI_API_KEY": "", "TAGGING_PROVIDER": ""})
    assert settings == TaggingSettings.from_env({})
    assert settings.model == DEFAULTS.model and settings.uses_local_gateway


def test_variables_are_read_by_their_exact_names():
    assert TaggingSettings.from_env({"tagging_model": "gpt-5-mini"}).model == DEFAULTS.model


def test_settings_built_with_keywords_ignore_the_environment_and_from_env_reads_it(monkeypatch):
    monkeypatch.setenv("TAGGING_MODEL", "gpt-5-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-shell")
    assert TaggingSettings(work_dir="/work").model == DEFAULTS.model
    assert TaggingSettings(work_dir="/work").uses_local_gateway
    assert TaggingSettings.from_env().model == "gpt-5-mini"
    assert not TaggingSettings.from_env().uses_local_gateway


def test_a_given_environment_is_the_only_one_read(monkeypatch):
    monkeypatch.setenv("TAGGING_COLLECTION", "from-the-shell")
    assert TaggingSettings.from_env({}).collection == DEFAULTS.collection


def test_tiktokens_own_variables_say_where_its_encodings_are():
    both = {"TIKTOKEN_CACHE_DIR": "/first", "DATA_GYM_CACHE_DIR": "/second"}
    assert str(TaggingSettings.from_env(both).tiktoken_cache_dir) == "/first"
    assert str(TaggingSettings.from_env({"DATA_GYM_CACHE_DIR": "/second"}).tiktoken_cache_dir) == "/second"


def test_anthropic_asks_for_claude_haiku_on_message_batches_unless_told_otherwise():
    anthropic = TaggingSettings.from_env({"ANTHROPIC_API_KEY": "sk-ant-x"})
    assert (anthropic.model, anthropic.endpoint) == ("claude-haiku-4-5", "/v1/messages")
    assert TaggingSettings(provider="anthropic").model == "claude-haiku-4-5"
    chosen = TaggingSettings.from_env({"TAGGING_PROVIDER": "anthropic", "TAGGING_MODEL": "claude-sonnet-4-5"})
    assert chosen.model == "claude-sonnet-4-5"


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
        (
            {"TAGGING_PROVIDER": "bedrock"},
            "TAGGING_PROVIDER: Input should be 'openai', 'azure', 'anthropic' or 'gemini'",
        ),
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


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"TAGGING_PROVIDER": "azure", "TAGGING_FILE_TTL_DAYS": "1"},
            "TAGGING_FILE_TTL_DAYS: Azure keeps files 14 to 30 days, not 1",
        ),
        ({"TAGGING_FILE_TTL_DAYS": "31"}, "TAGGING_FILE_TTL_DAYS: Input should be less than or equal to 30"),
        ({"TAGGING_MAX_ATTEMPTS": "0"}, "TAGGING_MAX_ATTEMPTS: Input should be greater than or equal to 1"),
        ({"TAGGING_MAX_ATTEMPTS": "three"}, "TAGGING_MAX_ATTEMPTS: Input should be a valid integer"),
        ({"TAGGING_MAX_REQUESTS_PER_FILE": "100001"}, "TAGGING_MAX_REQUESTS_PER_FILE: Input should be less than or"),
        ({"TAGGING_MAX_COST_USD": "-1"}, "TAGGING_MAX_COST_USD: Input should be greater than or equal to 0"),
        ({"TAGGING_REASONING_EFFORT": "extreme"}, "TAGGING_REASONING_EFFORT: Input should be 'none', 'minimal'"),
        ({"TAGGING_ENDPOINT": "/v1/embeddings"}, "TAGGING_ENDPOINT: Input should be '/v1/chat/completions'"),
        (
            {"TAGGING_SUBMIT_CRON": "every hour"},
            "TAGGING_SUBMIT_CRON: expected five cron fields (minute hour day month weekday), e.g. '0 * * * *'; "
            "got 'every hour'",
        ),
    ],
)
def test_a_value_refused_is_one_line_naming_its_variable(environ, message):
    with pytest.raises(ConfigError) as refused:
        TaggingSettings.from_env(environ)
    assert str(refused.value).startswith(f"invalid configuration: {message}")
    assert "\n" not in str(refused.value)
