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

from tagging_assets.core.environment import EnvironmentSource, field_of, shown_default, variable_of
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.protocol import (
    CHAT_COMPLETIONS,
    GENERATE_CONTENT,
    MAX_REQUESTS_PER_MESSAGE_BATCH,
    MESSAGES,
    Endpoint,
)
from tagging_assets.core.settings_groups import FLEX_PROVIDERS, RunModeSettings, TagVocabularySettings
from tagging_assets.core.settings_providers import (
    AZURE_MIN_FILE_TTL_DAYS,
    CREDENTIAL_VARIABLES,
    LOCAL_GATEWAY_KEY,
    PROVIDER_DEFAULTS,
    PROVIDER_ENDPOINTS,
    PROVIDER_NAMES,
    PROVIDERS,
    Provider,
    ProviderSettings,
    credentialed_in,
)

DEFAULT_MODEL = "gpt-4o-mini"

__all__ = [
    "CREDENTIAL_VARIABLES",
    "DEFAULTS",
    "LOCAL_GATEWAY_KEY",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "Provider",
    "TaggingSettings",
]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
"""The efforts OpenAI's SDK knows; the model's profile says which of them its family accepts."""

_CRON_FIELD = re.compile(r"[0-9*,/\-A-Za-z?]+")


def _default_tiktoken_cache(environ: Mapping[str, str]) -> Path:
    """Where tiktoken itself looks for its encodings: its own variables, else ``data-gym-cache`` in the temp folder."""
    configured = environ.get("TIKTOKEN_CACHE_DIR") or environ.get("DATA_GYM_CACHE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "data-gym-cache"


class TaggingSettings(ProviderSettings, RunModeSettings, TagVocabularySettings):
    """Where the cache and the work files are, and what the batches ask for; whose batch API runs them
    (``settings_providers.py``), how the requests run and how their tags hold together (``settings_groups.py``)
    are the groups it is made of.

    Built with keywords, the settings hold those values and the defaults alone, so that a shell's variables never
    steer the Python API or a test; ``from_env`` reads the environment, once.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, env_ignore_empty=True, populate_by_name=True
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
        json_schema_extra=shown_default(
            f"`{DEFAULT_MODEL}`; `{PROVIDER_DEFAULTS['anthropic']['model']}` on Anthropic, "
            f"`{PROVIDER_DEFAULTS['gemini']['model']}` on Gemini"
        ),
    )
    endpoint: Endpoint = Field(
        CHAT_COMPLETIONS,
        validation_alias="TAGGING_ENDPOINT",
        description=f"The endpoint the requests go to. `{CHAT_COMPLETIONS}` or `/v1/responses` at OpenAI and "
        f"Azure; `{MESSAGES}` (Message Batches) at Anthropic and `{GENERATE_CONTENT}` at Gemini, the only one "
        "each has.",
        json_schema_extra=shown_default(
            f"`{CHAT_COMPLETIONS}`; `{MESSAGES}` on Anthropic, `{GENERATE_CONTENT}` on Gemini"
        ),
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
        "nothing and keeps results 29 days from creation, which no setting changes; Gemini's uploads take no TTL.",
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
        "at Anthropic; Gemini documents no count (only 2 GB a file), and gets 50,000.",
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
        "`reasoning_efforts`, `temperature`, `max_output_tokens`, `json_output` (`schema` or `tool`), `takes_flex`, "
        "and for a Gemini model `thinking` (`flash-budget`, `pro-budget`, `flash-level` or `pro-level`) and "
        "`output_limit`.",
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
        """The provider's model and endpoint where none is given: Claude Haiku on Message Batches for Anthropic,
        Gemini 2.5 Flash-Lite on generateContent for Gemini.
        Values given by variable are named by field from here on, so every check reads one name."""
        if not isinstance(values, Mapping):
            return values
        by_name = {field_of(cls, str(key)): value for key, value in values.items() if value is not None}
        credentialed = credentialed_in(by_name)
        provider = by_name.get("provider") or (credentialed[0] if len(credentialed) == 1 else None)
        return {**PROVIDER_DEFAULTS.get(str(provider), {}), **by_name}

    @model_validator(mode="after")
    def _one_provider(self) -> TaggingSettings:
        """Credentials for several providers and no TAGGING_PROVIDER would leave the choice to a guess; an
        endpoint belongs to its provider."""
        credentialed = credentialed_in(self.__dict__)
        if self.provider is None and len(credentialed) > 1:
            raise ValueError(
                f"TAGGING_PROVIDER: credentials are set for {' and '.join(credentialed)}; choose one with "
                "TAGGING_PROVIDER"
            )
        own_endpoint = PROVIDER_ENDPOINTS.get(self.batch_provider)
        fits = self.endpoint == own_endpoint if own_endpoint else self.endpoint not in PROVIDER_ENDPOINTS.values()
        if not fits:
            expected = own_endpoint or f"{CHAT_COMPLETIONS} or /v1/responses"
            raise ValueError(
                f"TAGGING_ENDPOINT: {self.endpoint} is not an endpoint of {self.batch_provider}'s Batch API; "
                f"expected {expected}"
            )
        if self.mode == "flex" and self.batch_provider not in FLEX_PROVIDERS:
            raise ValueError(
                f"TAGGING_MODE: flex is OpenAI's, Azure's and Gemini's; {self.batch_provider} takes batch, realtime or "
                "auto"
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
    def file_ttl_seconds(self) -> int:
        return round(self.file_ttl_days * 86_400)

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
