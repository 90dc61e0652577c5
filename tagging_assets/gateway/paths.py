"""Where each protocol's routes live on the gateway: OpenAI's under ``/v1``, Azure OpenAI's under ``/openai``
(its data-plane paths, which the ``AzureOpenAI`` client calls with ``?api-version=``), Anthropic's under
``/v1/messages``."""

from __future__ import annotations

from typing import Final

from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, RESPONSES

OPENAI_PREFIX: Final = "/v1"
AZURE_PREFIX: Final = "/openai"
CLIENT_REQUEST_ID: Final = "x-client-request-id"
"""The header a client names its request with; realtime answers echo it, as OpenAI's do."""
BATCH_ENDPOINTS: Final = (CHAT_COMPLETIONS, RESPONSES)
"""The endpoints an OpenAI batch may be created for."""
AZURE_BATCH_ENDPOINTS: Final = ("/chat/completions", "/responses", *BATCH_ENDPOINTS)
"""Azure's global-batch guide creates batches with ``/chat/completions``; its v1 paths take OpenAI's spelling."""


def is_azure(path: str) -> bool:
    return path.startswith(f"{AZURE_PREFIX}/")


def is_realtime(path: str) -> bool:
    """A chat completion, response or message path, of any of the three APIs."""
    return path == MESSAGES or path.endswith(("/chat/completions", "/responses"))
