"""The SDK client and the ``BatchApi`` for the configured provider: OpenAI's, Azure OpenAI's through
``AzureOpenAI``, or Anthropic's, each SDK reading its own base-URL variable (``OPENAI_BASE_URL``,
``ANTHROPIC_BASE_URL``) through the settings. Which implementation serves a provider is decided in
``providers/dispatch.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tagging_assets.batches.providers.dispatch import batch_api_of, sdk_client
from tagging_assets.core.settings import TaggingSettings

if TYPE_CHECKING:
    from tagging_assets.batches.providers.dispatch import BatchClient as BatchClient

__all__ = ["DEFAULT_RETRIES", "batch_api_client", "batch_api_of", "sdk_client"]

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
