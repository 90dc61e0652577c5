"""Which provider's batch API runs the batches, and how to reach it: each provider's credentials, the local
gateway that answers where none are set, and what follows from them (the URL and key the SDK is given).

One group of ``TaggingSettings`` (``settings.py``), one concern: every provider's variables and the rules that
pick one live here, so a provider more is a field or two and an entry in each table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from pydantic import AliasChoices, Field, SecretStr

from tagging_assets.core.contracts import Backend
from tagging_assets.core.environment import KeywordSettings, shown_default
from tagging_assets.core.protocol import GENERATE_CONTENT, MESSAGES

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
    "gemini": "Gemini's Batch API",
}
"""Each provider's batch API as messages name it."""
PROVIDER_DEFAULTS: dict[str, dict[str, str]] = {
    "anthropic": {"model": "claude-haiku-4-5", "endpoint": MESSAGES},
    "gemini": {"model": "gemini-2.5-flash-lite", "endpoint": GENERATE_CONTENT},
}
"""What a provider's batches ask for unless TAGGING_MODEL and TAGGING_ENDPOINT say otherwise."""
PROVIDER_ENDPOINTS: dict[str, str] = {"anthropic": MESSAGES, "gemini": GENERATE_CONTENT}
"""The one endpoint of a provider that has one; every other endpoint is OpenAI's and Azure's."""
AZURE_API_VERSION = "2025-04-01-preview"
"""The latest api-version Azure's global-batch guide names for the AzureOpenAI client."""
AZURE_MIN_FILE_TTL_DAYS = 14
"""Azure accepts ``expires_after`` and ``output_expires_after`` of 14 to 30 days only (OpenAI: 1 hour to 30)."""

CREDENTIAL_VARIABLES: dict[str, tuple[str, str]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
    "azure": ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"),
    "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
    "gemini": ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY"),
}
"""Where each provider's API and key are set, for messages that say which to change (Gemini's key may also be
GOOGLE_API_KEY, which wins, as in google-genai)."""


def credentialed_in(values: Mapping[str, object]) -> list[Provider]:
    """The providers whose credentials ``values`` (the settings' fields) hold."""
    found: list[Provider] = []
    if values.get("openai_api_key") is not None or values.get("openai_base_url") is not None:
        found.append("openai")
    if values.get("azure_endpoint") is not None and values.get("azure_api_key") is not None:
        found.append("azure")
    if values.get("anthropic_api_key") is not None or values.get("anthropic_base_url") is not None:
        found.append("anthropic")
    if values.get("gemini_api_key") is not None or values.get("gemini_base_url") is not None:
        found.append("gemini")
    return found


class ProviderSettings(KeywordSettings):
    """Whose batch API runs the batches and how to reach it: each provider's credentials, or the local gateway."""

    provider: Provider | None = Field(
        None,
        validation_alias="TAGGING_PROVIDER",
        description="Whose batch API runs the batches: openai, azure, anthropic or gemini. Unset, the provider "
        "whose credentials are set (one only), else openai. With no credentials the local gateway answers in that "
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
    azure_realtime_deployment: str | None = Field(
        None,
        validation_alias="TAGGING_AZURE_REALTIME_DEPLOYMENT",
        description="The Azure standard deployment that realtime and flex calls name (a global-batch deployment "
        "takes batches only).",
        json_schema_extra=shown_default("TAGGING_AZURE_DEPLOYMENT"),
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
    gemini_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("GOOGLE_API_KEY", "GEMINI_API_KEY"),
        description="Gemini's API key, for its Batch API (google-genai's own variables: GOOGLE_API_KEY wins when "
        "both are set). With neither it nor GOOGLE_GEMINI_BASE_URL, the local gateway.",
    )
    gemini_base_url: str | None = Field(
        None,
        validation_alias="GOOGLE_GEMINI_BASE_URL",
        description="Gemini's API host (google-genai's own variable). "
        "`https://generativelanguage.googleapis.com`: the SDK adds `/v1/...` to it.",
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

    @property
    def batch_provider(self) -> Provider:
        """TAGGING_PROVIDER, else the one provider with credentials, else OpenAI."""
        if self.provider is not None:
            return self.provider
        credentialed = credentialed_in(self.__dict__)
        return credentialed[0] if credentialed else "openai"

    @property
    def uses_local_gateway(self) -> bool:
        """No credentials for the chosen provider: the project's own gateway answers, speaking its protocol."""
        if self.batch_provider == "azure":
            return self.azure_endpoint is None
        return self.batch_provider not in credentialed_in(self.__dict__)

    @property
    def backend(self) -> Backend:
        """Who will tag: the local gateway's offline tagger, or a Batch API."""
        return "offline-tagger" if self.uses_local_gateway else "api"

    @property
    def batch_api_url(self) -> str | None:
        """The backend's base URL (for Azure, its endpoint; for Anthropic and Gemini, the host their SDKs add
        ``/v1/...`` to); None lets the SDK use its provider's own."""
        provider = self.batch_provider
        if self.uses_local_gateway:
            return self.gateway_url if provider == "openai" else self.gateway_url.removesuffix("/").removesuffix("/v1")
        urls = {"azure": self.azure_endpoint, "anthropic": self.anthropic_base_url, "gemini": self.gemini_base_url}
        return urls.get(provider, self.openai_base_url)

    @property
    def batch_api_key(self) -> str:
        keys = {"azure": self.azure_api_key, "anthropic": self.anthropic_api_key, "gemini": self.gemini_api_key}
        key = keys.get(self.batch_provider, self.openai_api_key)
        return key.get_secret_value() if key is not None else LOCAL_GATEWAY_KEY
