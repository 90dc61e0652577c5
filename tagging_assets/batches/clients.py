"""The SDK client and the ``BatchApi`` for the configured provider: OpenAI's, Azure OpenAI's through
``AzureOpenAI``, or Anthropic's.

``AzureOpenAI`` is an ``OpenAI``: Azure differs in its URLs (``{endpoint}/openai/...?api-version=``), its
``api-key`` header and the deployment its requests name, which the SDK and the settings handle. Each SDK reads
its own base-URL variable (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``) through the settings.

Each SDK is imported when its provider's client is made, not with this module: a command pays for the one it
uses (Anthropic's takes a second to load, OpenAI's under half of one).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from tagging_assets.batches.api import BatchApi
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import Provider, TaggingSettings

if TYPE_CHECKING:
    from anthropic import Anthropic
    from openai import OpenAI

    BatchClient = OpenAI | Anthropic
    """An SDK client of one of the providers."""

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
    if provider == "azure":
        from openai import AzureOpenAI

        if base_url is None:
            raise ConfigError("invalid configuration: AZURE_OPENAI_ENDPOINT is not set")
        return AzureOpenAI(azure_endpoint=base_url, api_key=api_key, api_version=api_version, **options)
    if provider == "anthropic":
        from anthropic import Anthropic

        return Anthropic(base_url=base_url, api_key=api_key, **options)
    from openai import OpenAI

    return OpenAI(base_url=base_url, api_key=api_key, **options)


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
    """The Batch API an SDK client speaks to. A client is Anthropic's only if that SDK is loaded."""
    anthropic = sys.modules.get("anthropic")
    if anthropic is not None and isinstance(client, anthropic.Anthropic):
        from tagging_assets.batches.message_batches import MessageBatches

        return MessageBatches(client)
    from tagging_assets.batches.openai_batches import OpenAIBatches

    return OpenAIBatches(cast("OpenAI", client), provider="azure" if provider == "azure" else "openai")


def batch_api(settings: TaggingSettings) -> BatchApi:
    """The configured provider's Batch API, or the local gateway's in its protocol."""
    return batch_api_of(batch_api_client(settings), settings.batch_provider)
