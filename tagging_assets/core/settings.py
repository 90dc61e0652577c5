"""Every setting of the pipeline, read from the environment once.

The command line, the Dagster resources and the Python API all start from one
``TaggingSettings``; nothing else in the package reads the environment (the
gateway, which stands apart, has its own settings). The README's Configuration
table lists the same variables.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from tagging_assets.core.contracts import Backend
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, Endpoint

LOCAL_GATEWAY_URL = "http://127.0.0.1:8787/v1"
LOCAL_GATEWAY_KEY = "sk-local-gateway"
"""The key the SDK sends to the local gateway, which needs one only when started with ``--api-key``."""

Provider = Literal["openai", "azure", "anthropic"]
"""Whose Batch API runs the batches; each is driven through its own SDK client."""
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
PROVIDER_NAMES = {
    "openai": "OpenAI's Batch API",
    "azure": "Azure OpenAI's global batch",
    "anthropic": "Anthropic's Message Batches",
}
"""Each provider's batch API as messages name it."""
CREDENTIAL_VARIABLES: dict[str, tuple[str, str]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
    "azure": ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"),
    "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
}
"""Where each provider's API and key are set, for messages that say which to change."""
PROVIDER_DEFAULTS: dict[str, dict[str, str]] = {"anthropic": {"model": "claude-haiku-4-5", "endpoint": MESSAGES}}
"""What a provider's batches ask for unless TAGGING_MODEL and TAGGING_ENDPOINT say otherwise."""
AZURE_API_VERSION = "2025-04-01-preview"
"""The latest api-version Azure's global-batch guide names for the AzureOpenAI client."""
AZURE_MIN_FILE_TTL_DAYS = 14
"""Azure accepts ``expires_after`` and ``output_expires_after`` of 14 to 30 days only (OpenAI: 1 hour to 30)."""

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""The efforts OpenAI's SDK knows; the model's profile says which of them its family accepts."""

_CRON_FIELD = re.compile(r"[0-9*,/\-A-Za-z?]+")

ENVIRONMENT = {
    "provider": "TAGGING_PROVIDER",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "azure_endpoint": "AZURE_OPENAI_ENDPOINT",
    "azure_api_key": "AZURE_OPENAI_API_KEY",
    "azure_api_version": "OPENAI_API_VERSION",
    "azure_deployment": "TAGGING_AZURE_DEPLOYMENT",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "anthropic_base_url": "ANTHROPIC_BASE_URL",
    "gateway_url": "TAGGING_GATEWAY_URL",
    "gateway_state_dir": "TAGGING_GATEWAY_STATE_DIR",
    "qdrant_url": "QDRANT_URL",
    "qdrant_api_key": "QDRANT_API_KEY",
    "qdrant_path": "QDRANT_PATH",
    "collection": "TAGGING_COLLECTION",
    "model": "TAGGING_MODEL",
    "endpoint": "TAGGING_ENDPOINT",
    "reasoning_effort": "TAGGING_REASONING_EFFORT",
    "file_ttl_days": "TAGGING_FILE_TTL_DAYS",
    "work_dir": "TAGGING_WORK_DIR",
    "max_attempts": "TAGGING_MAX_ATTEMPTS",
    "max_transcript_tokens": "TAGGING_MAX_TRANSCRIPT_TOKENS",
    "max_requests_per_file": "TAGGING_MAX_REQUESTS_PER_FILE",
    "max_cost_usd": "TAGGING_MAX_COST_USD",
    "enqueued_token_limit": "TAGGING_ENQUEUED_TOKEN_LIMIT",
    "pricing_file": "TAGGING_PRICING_FILE",
    "stuck_after_seconds": "TAGGING_STUCK_AFTER_SECONDS",
    "submit_cron": "TAGGING_SUBMIT_CRON",
    "dagster_home": "DAGSTER_HOME",
}
"""Each setting and the environment variable it is read from."""


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


class TaggingSettings(BaseModel):
    """Where the cache, the batch backend and the work files are, and what the batches ask for."""

    model_config = ConfigDict(frozen=True)

    provider: Provider | None = None
    """None: inferred from whose credentials are set, else OpenAI."""
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    azure_endpoint: str | None = None
    azure_api_key: SecretStr | None = None
    azure_api_version: str = AZURE_API_VERSION
    azure_deployment: str | None = None
    """The Azure deployment the requests name as their model; by default TAGGING_MODEL."""
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    gateway_url: str = LOCAL_GATEWAY_URL
    gateway_state_dir: Path = Path(".gateway")
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_path: Path = Path(".qdrant")
    collection: str = "nate_content"
    model: str = Field("gpt-4o-mini", min_length=1)
    endpoint: Endpoint = CHAT_COMPLETIONS
    reasoning_effort: ReasoningEffort | None = None
    file_ttl_days: float = Field(30, ge=1 / 24, le=30)
    """How long uploads and batch output live at the API (OpenAI's bounds: one hour to 30 days)."""
    work_dir: Path = Path(".tagging")
    max_attempts: int = Field(3, ge=1)
    max_transcript_tokens: int = Field(32_000, ge=100)
    max_requests_per_file: int | None = Field(None, ge=1, le=100_000)
    """Fewer requests a batch than the API allows (50,000 at OpenAI and Azure, 100,000 at Anthropic)."""
    max_cost_usd: float | None = Field(None, ge=0)
    enqueued_token_limit: int | None = Field(None, ge=1)
    pricing_file: Path | None = None
    stuck_after_seconds: float = Field(6 * 3600, gt=0)
    submit_cron: str = "0 * * * *"
    dagster_home: Path = Path(".dagster_home")
    tiktoken_cache_dir: Path = Field(default_factory=lambda: _default_tiktoken_cache(os.environ))

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
        """The provider's model and endpoint where none is given: Claude Haiku on Message Batches for Anthropic."""
        if not isinstance(values, Mapping):
            return values
        credentialed = _credentialed_in(values)
        provider = values.get("provider") or (credentialed[0] if len(credentialed) == 1 else None)
        defaults = PROVIDER_DEFAULTS.get(str(provider), {})
        return {**defaults, **{name: value for name, value in values.items() if value is not None}}

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
        if self.batch_provider == "azure" and self.azure_endpoint and self.azure_api_key is None:
            raise ValueError("AZURE_OPENAI_API_KEY: AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not")
        if self.batch_provider == "azure" and self.file_ttl_days < AZURE_MIN_FILE_TTL_DAYS:
            raise ValueError(
                f"TAGGING_FILE_TTL_DAYS: Azure keeps files {AZURE_MIN_FILE_TTL_DAYS} to 30 days, "
                f"not {self.file_ttl_days:g}"
            )
        return self

    @property
    def batch_provider(self) -> Provider:
        """TAGGING_PROVIDER, else the one provider with credentials, else OpenAI."""
        if self.provider is not None:
            return self.provider
        credentialed = _credentialed_in(self.__dict__)
        return credentialed[0] if credentialed else "openai"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TaggingSettings:
        """The settings the environment gives; an invalid value is a ``ConfigError`` naming its variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {field: env[name] for field, name in ENVIRONMENT.items() if env.get(name)}
        values["tiktoken_cache_dir"] = _default_tiktoken_cache(env)
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            if not first["loc"]:
                raise ConfigError(f"invalid configuration: {message}") from None
            field = str(first["loc"][0])
            raise ConfigError(f"invalid configuration: {ENVIRONMENT.get(field, field)}: {message}") from None

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
