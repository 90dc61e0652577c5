"""Where each protocol's routes live on the gateway: OpenAI's under ``/v1``, Azure OpenAI's under ``/openai``
(its data-plane paths, which the ``AzureOpenAI`` client calls with ``?api-version=``), Anthropic's under
``/v1/messages``, Gemini's under ``/v1`` and ``/v1beta`` too, told apart from OpenAI's by its key header
(``gemini_routes.GeminiPaths`` moves them under ``/gemini`` before routing)."""

from __future__ import annotations

import re
from typing import Final

from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, RESPONSES

OPENAI_PREFIX: Final = "/v1"
GEMINI_PREFIX: Final = "/gemini"
"""Where Gemini's routes are mounted inside the app; clients never see it."""
GEMINI_VERSIONS: Final = ("v1", "v1beta")
"""google-genai 3.x calls ``v1``; the REST docs and older SDKs ``v1beta``."""
_GEMINI_ENDPOINT = re.compile(r"^/v1/models/(?P<model>[^/:]+):generateContent$")
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
    """A chat completion, response, message or generateContent path, of any of the four APIs."""
    return path == MESSAGES or path.endswith(("/chat/completions", "/responses", ":generateContent"))


def gemini_model(endpoint: str) -> str | None:
    """The model of a stored Gemini endpoint (``GENERATE_CONTENT`` with its model), or None for another API's."""
    match = _GEMINI_ENDPOINT.match(endpoint)
    return match.group("model") if match else None


def is_gemini(path: str) -> bool:
    return path.startswith(f"{GEMINI_PREFIX}/")
