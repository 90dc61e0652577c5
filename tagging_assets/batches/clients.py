"""The SDK client for the configured Batch API: OpenAI's, or Azure OpenAI's through ``AzureOpenAI``.

``AzureOpenAI`` is an ``OpenAI``, so everything past this module speaks one client type; Azure
differs in its URLs (``{endpoint}/openai/...?api-version=``), its ``api-key`` header and the
deployment its requests name, which the SDK and the settings handle.
"""

from __future__ import annotations

from typing import Any

from openai import AzureOpenAI, OpenAI

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import TaggingSettings


def batch_api_client(
    settings: TaggingSettings, *, max_retries: int | None = None, timeout: float | None = None
) -> OpenAI:
    """A client for the settings' provider, or for the local gateway speaking that provider's protocol."""
    options: dict[str, Any] = {}
    if max_retries is not None:
        options["max_retries"] = max_retries
    if timeout is not None:
        options["timeout"] = timeout
    if settings.batch_provider == "azure":
        endpoint = settings.batch_api_url
        if endpoint is None:
            raise ConfigError("invalid configuration: AZURE_OPENAI_ENDPOINT is not set")
        return AzureOpenAI(
            azure_endpoint=endpoint,
            api_key=settings.batch_api_key,
            api_version=settings.azure_api_version,
            **options,
        )
    return OpenAI(base_url=settings.batch_api_url, api_key=settings.batch_api_key, **options)
