"""The one place a provider's name becomes its SDK client and its ``BatchApi``.

Each implementation module imports its own SDK, and is imported only when its provider is used: a command pays
for the SDK it talks through and for no other (Anthropic's takes a second to load, OpenAI's under half of one).
A new provider is an implementation module and one entry in ``IMPLEMENTATIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from tagging_assets.batches.providers.base import BatchApi
from tagging_assets.core.settings import Provider, TaggingSettings

if TYPE_CHECKING:
    from anthropic import Anthropic
    from google.genai import Client as GeminiClient
    from openai import OpenAI

    from tagging_assets.core.executor import Send

    BatchClient = OpenAI | Anthropic | GeminiClient
    """An SDK client of one of the providers."""


@dataclass(frozen=True)
class Implementation:
    """How a provider's client and API are made, each loading its SDK on first use."""

    sdk: str
    """The SDK's top-level package, which its clients' classes live in."""
    client: Callable[..., BatchClient]
    api: Callable[[BatchClient, Provider], BatchApi]
    realtime: Callable[[BatchClient, RealtimeOptions], Send]
    """The provider's realtime call for a realtime or flex job's request lines."""


@dataclass(frozen=True, kw_only=True)
class RealtimeOptions:
    """How a job's calls go out: the model they name (the job's, or Azure's standard deployment in its place;
    Gemini's lines name none, so its calls need it) and the flex tier, if any."""

    model: str | None = None
    service_tier: str | None = None
    timeout: float = 600.0


def _openai_client(provider: Provider, **arguments: Any) -> BatchClient:
    from tagging_assets.batches.providers import openai_batches

    return openai_batches.client_for(provider, **arguments)


def _openai_api(client: BatchClient, provider: Provider) -> BatchApi:
    from tagging_assets.batches.providers.openai_batches import OpenAIBatches

    return OpenAIBatches(cast("OpenAI", client), provider=provider)


def _openai_realtime(client: BatchClient, options: RealtimeOptions) -> Send:
    from tagging_assets.batches.providers.openai_batches import OpenAIRealtime

    return OpenAIRealtime(
        cast("OpenAI", client), model=options.model, service_tier=options.service_tier, timeout=options.timeout
    )


def _anthropic_client(provider: Provider, **arguments: Any) -> BatchClient:
    from tagging_assets.batches.providers import anthropic_batches

    return anthropic_batches.client_for(provider, **arguments)


def _anthropic_api(client: BatchClient, provider: Provider) -> BatchApi:
    from tagging_assets.batches.providers.anthropic_batches import MessageBatches

    return MessageBatches(cast("Anthropic", client), provider=provider)


def _anthropic_realtime(client: BatchClient, options: RealtimeOptions) -> Send:
    from tagging_assets.batches.providers.anthropic_batches import AnthropicRealtime

    return AnthropicRealtime(cast("Anthropic", client), model=options.model, timeout=options.timeout)


def _gemini_client(provider: Provider, **arguments: Any) -> BatchClient:
    from tagging_assets.batches.providers import gemini_batches

    return gemini_batches.client_for(provider, **arguments)


def _gemini_api(client: BatchClient, provider: Provider) -> BatchApi:
    from tagging_assets.batches.providers.gemini_batches import GeminiBatches

    return GeminiBatches(cast("GeminiClient", client), provider=provider)


def _gemini_realtime(client: BatchClient, options: RealtimeOptions) -> Send:
    from tagging_assets.batches.providers.gemini_batches import GeminiRealtime

    if options.model is None:
        raise ValueError("a Gemini request line names no model; RealtimeOptions.model must name the job's")
    return GeminiRealtime(
        cast("GeminiClient", client), model=options.model, service_tier=options.service_tier, timeout=options.timeout
    )


IMPLEMENTATIONS: dict[Provider, Implementation] = {
    "openai": Implementation("openai", _openai_client, _openai_api, _openai_realtime),
    "azure": Implementation("openai", _openai_client, _openai_api, _openai_realtime),
    "anthropic": Implementation("anthropic", _anthropic_client, _anthropic_api, _anthropic_realtime),
    "gemini": Implementation("google", _gemini_client, _gemini_api, _gemini_realtime),
}
"""Every provider the library speaks to, by the name ``TAGGING_PROVIDER`` gives it."""
DEFAULT_RETRIES = 5
"""More than the SDKs' two: a submission or download that fails after a day of waiting costs more than a
few seconds of backing off."""


def sdk_client(
    provider: Provider,
    *,
    base_url: str | None,
    api_key: str,
    api_version: str | None = None,
    max_retries: int | None = None,
    timeout: float | None = None,
) -> BatchClient:
    """The provider's SDK client, pointed at ``base_url`` (Azure: its endpoint) or at the SDK's default."""
    options: dict[str, Any] = {}
    if max_retries is not None:
        options["max_retries"] = max_retries
    if timeout is not None:
        options["timeout"] = timeout
    return IMPLEMENTATIONS[provider].client(
        provider, base_url=base_url, api_key=api_key, api_version=api_version, options=options
    )


def batch_api_of(client: BatchClient, provider: Provider = "openai") -> BatchApi:
    """The Batch API an SDK client speaks to: the provider's, or, for a client of another SDK (a client made by
    hand), the first provider that SDK speaks for."""
    sdk = type(client).__module__.partition(".")[0]
    if IMPLEMENTATIONS[provider].sdk != sdk:
        provider = next((name for name, found in IMPLEMENTATIONS.items() if found.sdk == sdk), provider)
    return IMPLEMENTATIONS[provider].api(client, provider)


def realtime_sender(client: BatchClient, provider: Provider, options: RealtimeOptions) -> Send:
    """The provider's realtime call through ``client``'s SDK, one request line at a time."""
    return IMPLEMENTATIONS[provider].realtime(client, options)


def batch_api_client(
    settings: TaggingSettings, *, max_retries: int = DEFAULT_RETRIES, timeout: float | None = None
) -> BatchClient:
    """A client for the settings' provider, or for the local gateway speaking that provider's protocol; each SDK
    reads its own base-URL variable (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``, ``GOOGLE_GEMINI_BASE_URL``)
    through the settings."""
    return sdk_client(
        settings.batch_provider,
        base_url=settings.batch_api_url,
        api_key=settings.batch_api_key,
        api_version=settings.azure_api_version,
        max_retries=max_retries,
        timeout=timeout,
    )
