"""The SDK client and the ``BatchApi`` for the configured provider: OpenAI's, Azure OpenAI's through
``AzureOpenAI``, or Anthropic's.

``AzureOpenAI`` is an ``OpenAI``: Azure differs in its URLs (``{endpoint}/openai/...?api-version=``), its
``api-key`` header and the deployment its requests name, which the SDK and the settings handle. Each SDK reads
its own base-URL variable (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``) through the settings.
"""

from __future__ import annotations

from typing import Any

from anthropic import Anthropic
from openai import AzureOpenAI, OpenAI

from tagging_assets.batches.api import BatchApi
from tagging_assets.batches.message_batches import MessageBatches
from tagging_assets.batches.openai_batches import OpenAIBatches
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import Provider, TaggingSettings

BatchClient = OpenAI | Anthropic
"""An SDK client of one of the providers."""


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
    if provider == "azure":
        if base_url is None:
            raise ConfigError("invalid configuration: AZURE_OPENAI_ENDPOINT is not set")
        return AzureOpenAI(azure_endpoint=base_url, api_key=api_key, api_version=api_version, **options)
    if provider == "anthropic":
        return Anthropic(base_url=base_url, api_key=api_key, **options)
    return OpenAI(base_url=base_url, api_key=api_key, **options)


DEFAULT_RETRIES = 5
"""More than the SDKs' two: a submission or download that fails after a day of waiting costs more than a
few seconds of backing off."""


def batch_api_client(
    settings: TaggingSettings, *, max_retries: int = DEFAULT_RETRIES, timeout: float | None = None
) -> BatchClient:
    """A client for the settings' provider, or for the local gateway speaking that provider's protocol."""
    return sdk_client(
        settings.batch_provider,
        base_url=settings.batch_api_url,
        api_key=settings.batch_api_key,
        api_version=settings.azure_api_version,
        max_retries=max_retries,
        timeout=timeout,
    )


def batch_api_of(client: BatchClient, provider: Provider = "openai") -> BatchApi:
    """The Batch API an SDK client speaks to."""
    if isinstance(client, Anthropic):
        return MessageBatches(client)
    return OpenAIBatches(client, provider="azure" if provider == "azure" else "openai")
