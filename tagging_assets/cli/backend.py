"""The batch backend a command talks to: the configured endpoint, or the local gateway.

With no credentials for the provider (OPENAI_API_KEY or OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT, ANTHROPIC_API_KEY
or ANTHROPIC_BASE_URL, GEMINI_API_KEY or GOOGLE_API_KEY or GOOGLE_GEMINI_BASE_URL) the backend is the project's
own gateway at TAGGING_GATEWAY_URL, speaking that provider's protocol. If nothing answers there, a gateway is started
for the duration of the command, on the same durable state, so batches survive
between commands (they progress while some gateway runs).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tagging_assets.batches.providers import batch_api_client
from tagging_assets.core.errors import BackendError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.gateway.extra import missing_extra
from tagging_assets.gateway.process import GatewayProcess, is_loopback

if TYPE_CHECKING:
    from tagging_assets.batches.providers.dispatch import BatchClient


def _answers(base_url: str) -> bool:
    parts = urlsplit(base_url)
    try:
        with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}/health", timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def local_gateway(settings: TaggingSettings, say: Callable[[str], None] = print) -> Iterator[None]:
    """Make sure the local gateway answers at ``settings.gateway_url`` while the block runs."""
    if _answers(settings.gateway_url):
        yield
        return
    parts = urlsplit(settings.gateway_url)
    if not parts.hostname or not is_loopback(parts.hostname) or parts.port is None:
        raise BackendError(f"nothing answers at TAGGING_GATEWAY_URL={settings.gateway_url}")
    if (missing := missing_extra()) is not None:
        raise BackendError(missing)
    state_dir = settings.gateway_state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    say(f"Started the local gateway at {settings.gateway_url} for this command (state in {state_dir}).")
    with GatewayProcess(state_dir, port=parts.port):
        yield


@contextmanager
def batch_client(settings: TaggingSettings, say: Callable[[str], None] = print) -> Iterator[BatchClient]:
    """An SDK client for the configured backend."""
    if settings.uses_local_gateway:
        with local_gateway(settings, say):
            yield batch_api_client(settings)
        return
    yield batch_api_client(settings)


def client_if_answering(settings: TaggingSettings) -> BatchClient | None:
    """A client for the configured API, or for the local gateway only if one answers now: for a question that
    is not worth starting a gateway for (what the API announces of the model)."""
    if settings.uses_local_gateway and not _answers(settings.gateway_url):
        return None
    return batch_api_client(settings, max_retries=1, timeout=10)
