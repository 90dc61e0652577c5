"""The gateway's settings, read once from ``TAGGING_GATEWAY_*`` variables and flags, in process."""

import pytest

from tagging_assets.gateway.settings import FaultSettings, GatewayConfigError, GatewaySettings, settings_from_env


def test_variables_set_the_gateway_and_its_faults_and_flags_win():
    environ = {
        "TAGGING_GATEWAY_STATE_DIR": "/state",
        "TAGGING_GATEWAY_WORKERS": "3",
        "TAGGING_GATEWAY_TAGGER": "echo",
        "TAGGING_GATEWAY_LINE_ERROR_RATE": "0.5",
        "TAGGING_GATEWAY_SEED": "seven",
    }
    settings = settings_from_env({"workers": 2, "line_error_rate": 0.25, "tagger": None}, environ)
    assert (str(settings.state_dir), settings.workers, settings.tagger) == ("/state", 2, "echo")
    assert (settings.faults.line_error_rate, settings.faults.seed) == (0.25, "seven")


def test_a_gateway_built_in_code_ignores_the_shells_variables(monkeypatch):
    monkeypatch.setenv("TAGGING_GATEWAY_LINE_ERROR_RATE", "0.5")
    monkeypatch.setenv("TAGGING_GATEWAY_TAGGER", "echo")
    built = GatewaySettings(faults=FaultSettings(seed="1"))
    assert (built.tagger, built.faults.line_error_rate) == ("keywords", 0.0)
    read = settings_from_env({})
    assert (read.tagger, read.faults.line_error_rate) == ("echo", 0.5)


def test_a_given_environment_is_the_only_one_read(monkeypatch):
    monkeypatch.setenv("TAGGING_GATEWAY_REFUSAL_RATE", "0.5")
    assert settings_from_env({}, {}).faults.refusal_rate == 0.0


@pytest.mark.parametrize(
    ("environ", "flags", "message"),
    [
        ({}, {"line_error_rate": 2}, "line_error_rate: Input should be less than or equal to 1"),
        ({"TAGGING_GATEWAY_WORKERS": "0"}, {}, "workers: Input should be greater than or equal to 1"),
        ({"TAGGING_GATEWAY_TAGGER": "llm"}, {}, "tagger: Input should be 'keywords' or 'echo'"),
        ({"TAGGING_GATEWAY_SHUTDOWN_DATES": "gpt-4o"}, {}, "shutdown_dates: String should match pattern"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_in_process(environ, flags, message):
    with pytest.raises(GatewayConfigError) as refused:
        settings_from_env(flags, environ)
    assert str(refused.value).startswith(f"invalid gateway setting: {message}")
    assert "\n" not in str(refused.value)


def test_the_realtime_limits_and_faults_come_from_variables():
    environ = {
        "TAGGING_GATEWAY_REQUESTS_PER_MINUTE": "3000",
        "TAGGING_GATEWAY_TOKENS_PER_MINUTE": "200000",
        "TAGGING_GATEWAY_QUOTA_EXHAUSTED_AFTER": "10",
        "TAGGING_GATEWAY_FLEX_UNAVAILABLE_RATE": "0.25",
    }
    settings = settings_from_env({"tokens_per_minute": 1000}, environ)
    assert (settings.requests_per_minute, settings.tokens_per_minute) == (3000, 1000)
    assert (settings.faults.quota_exhausted_after, settings.faults.flex_unavailable_rate) == (10, 0.25)


@pytest.mark.parametrize(
    ("flag", "value", "setting"),
    [
        ("--rpm", "0", "requests_per_minute: Input should be greater than or equal to 1"),
        ("--tpm", "0", "tokens_per_minute: Input should be greater than or equal to 1"),
        ("--latency", "-1", "latency_seconds: Input should be greater than or equal to 0"),
        ("--quota-exhausted-after", "-1", "quota_exhausted_after: Input should be greater than or equal to 0"),
        ("--flex-served-default-rate", "2", "flex_served_default_rate: Input should be less than or equal to 1"),
        ("--upstream-rpm", "0", "upstream_requests_per_minute: Input should be greater than or equal to 1"),
        ("--upstream-tpm", "0", "upstream_tokens_per_minute: Input should be greater than or equal to 1"),
        ("--upstream-concurrency", "0", "upstream_concurrency: Input should be greater than or equal to 1"),
        ("--upstream", "localhost:11434", "upstream: String should match pattern '^https?://'"),
    ],
)
def test_the_short_flags_set_their_settings(flag, value, setting):
    from click.testing import CliRunner

    from tagging_assets.cli.gateway import gateway

    refused = CliRunner().invoke(gateway, [flag, value])
    assert refused.exit_code == 2
    assert refused.stderr == f"error: invalid gateway setting: {setting}\n"


def test_the_upstream_settings_come_from_flags_and_variables():
    environ = {
        "TAGGING_GATEWAY_UPSTREAM": "http://localhost:11434/v1",
        "TAGGING_GATEWAY_UPSTREAM_REQUESTS_PER_MINUTE": "5",
    }
    settings = settings_from_env({"upstream_tokens_per_minute": 9000, "upstream_concurrency": 2}, environ)
    assert settings.upstream == "http://localhost:11434/v1"
    assert (settings.upstream_requests_per_minute, settings.upstream_tokens_per_minute) == (5, 9000)
    assert settings.upstream_concurrency == 2
    assert settings.upstream_key() is None


def test_the_gateway_refuses_to_start_in_one_line_when_the_upstream_key_variable_is_unset(monkeypatch):
    from click.testing import CliRunner

    from tagging_assets.cli.gateway import gateway

    monkeypatch.delenv("OLLAMA_KEY", raising=False)
    arguments = ["--upstream", "http://localhost:11434/v1", "--upstream-key-env", "OLLAMA_KEY"]
    refused = CliRunner().invoke(gateway, arguments)
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: --upstream-key-env names OLLAMA_KEY, which is not set: export the upstream's key there, "
        "or leave --upstream-key-env out for a server without keys\n"
    )
