"""Every setting of the pipeline, declared once: its environment variable, its default and what it is for.

The command line, the Dagster resources and the Python API all start from one ``TaggingSettings``; nothing else
in the package reads the environment (the gateway, which stands apart, has its own settings). The command line's
environment help and ``docs/configuration.md`` are rendered from these fields (``core/settings_reference.py``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from tagging_assets.core.contracts import Backend
from tagging_assets.core.environment import EnvironmentSource, field_of, shown_default, variable_of
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.protocol import CHAT_COMPLETIONS, MAX_REQUESTS_PER_MESSAGE_BATCH, MESSAGES, Endpoint
from tagging_assets.core.settings_groups import FLEX_PROVIDERS, RunModeSettings, TagVocabularySettings

LOCAL_GATEWAY_URL = "http://127.0.0.1:8787/v1"
LOCAL_GATEWAY_KEY = "sk-local-gateway"
"""The key the SDK sends to the local gateway, which needs one only when started with ``--api-key``."""

Provider = Literal["openai", "azure", "anthropic", "gemini"]
"""Whose Batch API runs the batches; each is driven through its own SDK client."""
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
PROVIDER_NAMES = {
    "openai": "OpenAI's Batch API",
    "azure": "Azure OpenAI's global batch",
    "anthropic": "Anthropic's Message Batches",
}
"""Each provider's batch API as messages name it."""
DEFAULT_MODEL = "gpt-4o-mini"
PROVIDER_DEFAULTS: dict[str, dict[str, str]] = {"anthropic": {"model": "claude-haiku-4-5", "endpoint": MESSAGES}}
"""What a provider's batches ask for unless TAGGING_MODEL and TAGGING_ENDPOINT say otherwise."""
AZURE_API_VERSION = "2025-04-01-preview"
"""The latest api-version Azure's global-batch guide names for the AzureOpenAI client."""
AZURE_MIN_FILE_TTL_DAYS = 14
"""Azure accepts ``expires_after`` and ``output_expires_after`` of 14 to 30 days only (OpenAI: 1 hour to 30)."""

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""The efforts OpenAI's SDK knows; the model's profile says which of them its family accepts."""

_CRON_FIELD = re.compile(r"[0-9*,/\-A-Za-z?]+")


def _credentialed_in(values: Mapping[str, object]) -> list[Provider]:
    """The providers whose credentials ``values`` (the settings' fields) hold."""
    found: list[Provider] = []
    if values.get("openai_api_key") is not None or values.get("openai_base_url") is not None:
        found.append("openai")
    if values.get("azure_endpoint") is not None and values.get("azure_api_key") is not None:
        found.append("azure")
    if values.get("anthropic_api_key") is not None or values.get("anthropic_base_url") is not None:
        found.append("anthropic")
    return found


def _default_tiktoken_cache(environ: Mapping[str, str]) -> Path:
    """Where tiktoken itself looks for its encodings: its own variables, else ``data-gym-cache`` in the temp folder."""
    configured = environ.get("TIKTOKEN_CACHE_DIR") or environ.get("DATA_GYM_CACHE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "data-gym-cache"


class TaggingSettings(RunModeSettings, TagVocabularySettings):
    """Where the cache, the batch backend and the work files are, and what the batches ask for; how the requests
    run, and how their tags hold together, are the two groups it is made of (``settings_groups.py``).

    Built with keywords, the settings hold those values and the defaults alone, so that a shell's variables never
    steer the Python API or a test; ``from_env`` reads the environment, once.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, env_ignore_empty=True, populate_by_name=True
    )

    provider: Provider | None = Field(
        None,
        validation_alias="TAGGING_PROVIDER",
        description="Whose batch API runs the batches: openai, azure or anthropic. Unset, the provider whose "
        "credentials are set (one only), else openai. With no credentials the local gateway answers in that "
        "provider's protocol, through that provider's SDK.",
        json_schema_extra=shown_default("inferred"),
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias="OPENAI_API_KEY",
        description="OpenAI's API key, for its Batch API. With neither it nor OPENAI_BASE_URL, the local gateway.",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias="OPENAI_BASE_URL",
        description="OpenAI's Batch API or any compatible endpoint (the SDK's own variable).",
    )
    azure_endpoint: str | None = Field(
        None,
        validation_alias="AZURE_OPENAI_ENDPOINT",
        description="Azure OpenAI's endpoint, for its global batch. The SDK's AzureOpenAI client speaks to it: "
        "`https://RESOURCE.openai.azure.com`.",
    )
    azure_api_key: SecretStr | None = Field(
        None, validation_alias="AZURE_OPENAI_API_KEY", description="Azure OpenAI's API key."
    )
    azure_api_version: str = Field(
        AZURE_API_VERSION, validation_alias="OPENAI_API_VERSION", description="The Azure api-version."
    )
    azure_deployment: str | None = Field(
        None,
        validation_alias="TAGGING_AZURE_DEPLOYMENT",
        description="The Azure global-batch deployment the requests name as their model. TAGGING_MODEL stays the "
        "model behind it, for its rules and prices.",
        json_schema_extra=shown_default("`TAGGING_MODEL`"),
    )
    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias="ANTHROPIC_API_KEY",
        description="Anthropic's API key, for its Message Batches. With neither it nor ANTHROPIC_BASE_URL, the "
        "local gateway.",
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias="ANTHROPIC_BASE_URL",
        description="Anthropic's API host (the SDK's own variable). `https://api.anthropic.com`: the SDK adds "
        "`/v1/...` to it.",
    )
    gateway_url: str = Field(
        LOCAL_GATEWAY_URL,
        validation_alias="TAGGING_GATEWAY_URL",
        description="Where the local gateway listens. It answers when no provider's credentials are set.",
    )
    gateway_state_dir: Path = Field(
        Path(".gateway"),
        validation_alias="TAGGING_GATEWAY_STATE_DIR",
        description="The state of a gateway a command starts for itself.",
    )
    qdrant_url: str | None = Field(
        None, validation_alias="QDRANT_URL", description="A Qdrant server or Qdrant Cloud that holds the cache."
    )
    qdrant_api_key: SecretStr | None = Field(
        None, validation_alias="QDRANT_API_KEY", description="The Qdrant server's API key."
    )
    qdrant_path: Path = Field(
        Path(".qdrant"), validation_alias="QDRANT_PATH", description="The embedded store, when QDRANT_URL is unset."
    )
    collection: str = Field(
        "nate_content", validation_alias="TAGGING_COLLECTION", description="The collection of transcripts."
    )
    model: str = Field(
        DEFAULT_MODEL,
        min_length=1,
        validation_alias="TAGGING_MODEL",
        description="The model every request asks for. Its family's rules decide what a request carries.",
        json_schema_extra=shown_default(f"`{DEFAULT_MODEL}`; `{PROVIDER_DEFAULTS['anthropic']['model']}` on Anthropic"),
    )
    endpoint: Endpoint = Field(
        CHAT_COMPLETIONS,
        validation_alias="TAGGING_ENDPOINT",
        description=f"The endpoint the requests go to. `{CHAT_COMPLETIONS}` or `/v1/responses` at OpenAI and "
        f"Azure; `{MESSAGES}` (Message Batches) at Anthropic, the only one it has.",
        json_schema_extra=shown_default(f"`{CHAT_COMPLETIONS}`; `{MESSAGES}` on Anthropic"),
    )
    azure_realtime_deployment: str | None = Field(
        None,
        validation_alias="TAGGING_AZURE_REALTIME_DEPLOYMENT",
        description="The Azure standard deployment that realtime and flex calls name (a global-batch deployment "
        "takes batches only).",
        json_schema_extra=shown_default("TAGGING_AZURE_DEPLOYMENT"),
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None,
        validation_alias="TAGGING_REASONING_EFFORT",
        description=f"A reasoning model's effort. One of {', '.join(get_args(ReasoningEffort))}; refused where "
        "the model's family does not take it.",
        json_schema_extra=shown_default("the family's lowest"),
    )
    file_ttl_days: float = Field(
        30,
        ge=1 / 24,
        le=30,
        validation_alias="TAGGING_FILE_TTL_DAYS",
        description="How long uploads and batch output live at the API, in days. From 1 hour (`0.042`) to 30 "
        f"days (on Azure, {AZURE_MIN_FILE_TTL_DAYS} to 30), as `expires_after` and `output_expires_after`. The TTL "
        "goes into the batch's metadata, so the sensor's expiry warning needs no call per batch. Anthropic uploads "
        "nothing and keeps results 29 days from creation, which no setting changes.",
    )
    work_dir: Path = Field(
        Path(".tagging"),
        validation_alias="TAGGING_WORK_DIR",
        description="Request files, results and batch records. One record per submitted batch, beside the "
        "request files and the downloaded results.",
    )
    max_attempts: int = Field(
        3, ge=1, validation_alias="TAGGING_MAX_ATTEMPTS", description="Attempts per item before it is given up on."
    )
    max_transcript_tokens: int = Field(
        32_000,
        ge=100,
        validation_alias="TAGGING_MAX_TRANSCRIPT_TOKENS",
        description="Longer transcripts are trimmed, head and tail, and marked truncated. The default is far "
        "inside gpt-4o-mini's 128k context, and a cap on what one item can cost.",
    )
    max_requests_per_file: int | None = Field(
        None,
        ge=1,
        le=MAX_REQUESTS_PER_MESSAGE_BATCH,
        validation_alias="TAGGING_MAX_REQUESTS_PER_FILE",
        description="Fewer requests a batch than the API allows. The APIs allow 50,000 at OpenAI and Azure, 100,000 "
        "at Anthropic.",
        json_schema_extra=shown_default("the API's"),
    )
    max_cost_usd: float | None = Field(
        None,
        ge=0,
        validation_alias="TAGGING_MAX_COST_USD",
        description="The most a submission may cost, in dollars at the prices of the mode it runs in. Work "
        "expected to cost more is refused before anything is uploaded or sent.",
    )
    enqueued_token_limit: int | None = Field(
        None,
        ge=1,
        validation_alias="TAGGING_ENQUEUED_TOKEN_LIMIT",
        description="The model's queued-token budget. Every shard fits it, and shards that do not fit beside the "
        "batches in flight wait; a finished batch makes the sensor request the next submission. At Anthropic, "
        "whose batches carry no metadata to count the tokens in flight by, shards fit it but do not wait.",
    )
    pricing_file: Path | None = Field(
        None,
        validation_alias="TAGGING_PRICING_FILE",
        description="JSON prices by model, read before genai-prices' (the built-in source). Entries are keyed by "
        'model name or glob: realtime USD per million tokens (`{"gpt-5.4-mini": {"input": 0.75, "cached_input": '
        '0.075, "output": 4.50}}`), optionally `batch_input`, `batch_cached_input`, `batch_output` (else half) and '
        "`flex_input`, `flex_cached_input`, `flex_output` (else the batch prices), and the request rules "
        "`reasoning_efforts`, `temperature`, `max_output_tokens`, `json_output` (`schema` or `tool`), `takes_flex`.",
    )
    stuck_after_seconds: float = Field(
        6 * 3600,
        gt=0,
        validation_alias="TAGGING_STUCK_AFTER_SECONDS",
        description="The sensor reports a batch stuck this long in validating or finalizing.",
    )
    submit_cron: str = Field(
        "0 * * * *",
        validation_alias="TAGGING_SUBMIT_CRON",
        description="When the schedule submits new and stale items. Five cron fields, checked when the settings "
        "are read.",
    )
    dagster_home: Path = Field(
        Path(".dagster_home"),
        validation_alias="DAGSTER_HOME",
        description="The Dagster instance the demo records its runs in. Dagster's own variable.",
    )
    tiktoken_cache_dir: Path = Field(
        default_factory=lambda: _default_tiktoken_cache(os.environ),
        validation_alias=AliasChoices("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"),
        description="Where tiktoken keeps its encodings. tiktoken's own variables: with the model's encoding "
        "there, token counts are exact; without it, estimates.",
        json_schema_extra=shown_default("`data-gym-cache` in the temp folder"),
    )

    @field_validator("submit_cron")
    @classmethod
    def _five_cron_fields(cls, cron: str) -> str:
        """A phrase or a missing field fails when the settings are read, not when Dagster first loads the
        schedule; Dagster still checks each field's range when it does."""
        fields = cron.split()
        if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(field) for field in fields):
            raise ValueError(
                f"expected five cron fields (minute hour day month weekday), e.g. '0 * * * *'; got {cron!r}"
            )
        return cron

    @model_validator(mode="before")
    @classmethod
    def _provider_defaults(cls, values: object) -> object:
        """The provider's model and endpoint where none is given: Claude Haiku on Message Batches for Anthropic.
        Values given by variable are named by field from here on, so every check reads one name."""
        if not isinstance(values, Mapping):
            return values
        by_name = {field_of(cls, str(key)): value for key, value in values.items() if value is not None}
        credentialed = _credentialed_in(by_name)
        provider = by_name.get("provider") or (credentialed[0] if len(credentialed) == 1 else None)
        return {**PROVIDER_DEFAULTS.get(str(provider), {}), **by_name}

    @model_validator(mode="after")
    def _one_provider(self) -> TaggingSettings:
        """Credentials for several providers and no TAGGING_PROVIDER would leave the choice to a guess; an
        endpoint belongs to its provider."""
        credentialed = _credentialed_in(self.__dict__)
        if self.provider is None and len(credentialed) > 1:
            raise ValueError(
                f"TAGGING_PROVIDER: credentials are set for {' and '.join(credentialed)}; choose one with "
                "TAGGING_PROVIDER"
            )
        if (self.batch_provider == "anthropic") != (self.endpoint == MESSAGES):
            expected = MESSAGES if self.batch_provider == "anthropic" else f"{CHAT_COMPLETIONS} or /v1/responses"
            raise ValueError(
                f"TAGGING_ENDPOINT: {self.endpoint} is not an endpoint of {self.batch_provider}'s Batch API; "
                f"expected {expected}"
            )
        if self.mode == "flex" and self.batch_provider not in FLEX_PROVIDERS:
            raise ValueError(
                f"TAGGING_MODE: flex is OpenAI's and Azure's; {self.batch_provider} takes batch, realtime or auto"
            )
        if self.batch_provider == "azure" and self.azure_endpoint and self.azure_api_key is None:
            raise ValueError("AZURE_OPENAI_API_KEY: AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not")
        if self.batch_provider == "azure" and self.file_ttl_days < AZURE_MIN_FILE_TTL_DAYS:
            raise ValueError(
                f"TAGGING_FILE_TTL_DAYS: Azure keeps files {AZURE_MIN_FILE_TTL_DAYS} to 30 days, "
                f"not {self.file_ttl_days:g}"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TaggingSettings:
        """The settings the environment gives; an invalid value is a ``ConfigError`` naming its variable."""
        source = EnvironmentSource(cls, os.environ if environ is None else environ)
        try:
            return cls(**source())
        except ValidationError as error:
            first = error.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            if not first["loc"]:
                raise ConfigError(f"invalid configuration: {message}") from None
            raise ConfigError(f"invalid configuration: {variable_of(cls, str(first['loc'][0]))}: {message}") from None

    @property
    def batch_provider(self) -> Provider:
        """TAGGING_PROVIDER, else the one provider with credentials, else OpenAI."""
        if self.provider is not None:
            return self.provider
        credentialed = _credentialed_in(self.__dict__)
        return credentialed[0] if credentialed else "openai"

    @property
    def file_ttl_seconds(self) -> int:
        return round(self.file_ttl_days * 86_400)

    @property
    def uses_local_gateway(self) -> bool:
        """No credentials for the chosen provider: the project's own gateway answers, speaking its protocol."""
        if self.batch_provider == "azure":
            return self.azure_endpoint is None
        if self.batch_provider == "anthropic":
            return self.anthropic_api_key is None and self.anthropic_base_url is None
        return self.openai_api_key is None and self.openai_base_url is None

    @property
    def backend(self) -> Backend:
        """Who will tag: the local gateway's offline tagger, or a Batch API."""
        return "offline-tagger" if self.uses_local_gateway else "api"

    @property
    def batch_api_url(self) -> str | None:
        """The backend's base URL (for Azure, its endpoint; for Anthropic, the host its SDK adds ``/v1/...``
        to); None lets the SDK use its provider's own."""
        provider = self.batch_provider
        if self.uses_local_gateway:
            return self.gateway_url if provider == "openai" else self.gateway_url.removesuffix("/").removesuffix("/v1")
        return {"azure": self.azure_endpoint, "anthropic": self.anthropic_base_url}.get(provider, self.openai_base_url)

    @property
    def batch_api_key(self) -> str:
        key = {"azure": self.azure_api_key, "anthropic": self.anthropic_api_key}.get(
            self.batch_provider, self.openai_api_key
        )
        return key.get_secret_value() if key is not None else LOCAL_GATEWAY_KEY

    @property
    def deployment(self) -> str:
        """What requests name as their model: the Azure deployment, or the model itself."""
        return (self.azure_deployment or self.model) if self.batch_provider == "azure" else self.model

    @property
    def realtime_deployment(self) -> str:
        """What realtime and flex calls name as their model: Azure's standard deployment, or the requests' own."""
        if self.batch_provider == "azure" and self.azure_realtime_deployment:
            return self.azure_realtime_deployment
        return self.deployment


DEFAULTS = TaggingSettings()
"""The settings with nothing set: where the library's own defaults come from, so that none is written twice."""

CREDENTIAL_VARIABLES: dict[str, tuple[str, str]] = {
    provider: (variable_of(TaggingSettings, url), variable_of(TaggingSettings, key))
    for provider, url, key in (
        ("openai", "openai_base_url", "openai_api_key"),
        ("azure", "azure_endpoint", "azure_api_key"),
        ("anthropic", "anthropic_base_url", "anthropic_api_key"),
    )
}
"""Where each provider's API and key are set, for messages that say which to change."""
