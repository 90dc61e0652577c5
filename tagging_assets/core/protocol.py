"""What the providers' batch protocols fix, stated once for the pipeline and the local gateway alike.

The pipeline shards, audits and polls by these facts and the gateway enforces them, so the two can never disagree
on an endpoint's path, a batch's size or which statuses are final. The gateway may import this module (and
``contracts``) and nothing else of the pipeline; its own request rules stay its own, on purpose.

Sizes are decimal, as the providers write them ("200 MB", "256 MB"): a file the pipeline writes under the limit
is under it whichever way a provider counts.
"""

from __future__ import annotations

from typing import Final, Literal

CHAT_COMPLETIONS: Final = "/v1/chat/completions"
RESPONSES: Final = "/v1/responses"
MESSAGES: Final = "/v1/messages"
GENERATE_CONTENT: Final = "/v1/models/{model}:generateContent"
"""Gemini's one endpoint, as google-genai 3.x calls it; a batch names its model once, in the create's path."""
Endpoint = Literal["/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/models/{model}:generateContent"]
"""The endpoints a tagging request can go to: OpenAI's and Azure's two, Anthropic's one, Gemini's one."""

MAX_REQUESTS_PER_FILE: Final = 50_000
MAX_BYTES_PER_FILE: Final = 200 * 1000 * 1000
"""OpenAI's Batch API: "up to 50,000 requests, and can be up to 200 MB in size"."""
MAX_REQUESTS_PER_MESSAGE_BATCH: Final = 100_000
MAX_BYTES_PER_MESSAGE_BATCH: Final = 256 * 1000 * 1000
"""Anthropic's Message Batches: "limited to 100,000 requests or 256 MB, whichever comes first"."""
MAX_BYTES_INLINE_GEMINI_BATCH: Final = 20 * 1000 * 1000
"""Gemini's Batch API takes requests inline in a create "under 20 MB"; a larger shard goes as an uploaded file."""
MAX_BYTES_PER_GEMINI_FILE: Final = 2 * 1000 * 1000 * 1000
"""Gemini's Batch API: an input file of "up to 2 GB"."""
GEMINI_TERMINAL_STATES: Final = frozenset(
    {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
)
"""A Gemini batch job in one of these has finished (google-genai's names; the wire says ``BATCH_STATE_*``)."""
GEMINI_EXPIRY_SECONDS: Final = 48 * 3600
"""A Gemini batch job pending or running longer than this expires, with no results."""
MESSAGE_CUSTOM_ID: Final = r"^[a-zA-Z0-9_-]{1,64}$"
"""What Anthropic's Message Batches accept as a request's ``custom_id``."""

COMPLETION_WINDOW: Final = "24h"
"""The one completion window the Batch API takes."""
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "expired", "cancelled"})
"""A batch in one of these has finished: its results are final and may be downloaded."""
ACTIVE_STATUSES: Final = ("validating", "in_progress", "finalizing", "cancelling")
"""A batch in one of these is still moving towards a terminal status."""

CHARS_PER_TOKEN: Final = 4
"""OpenAI's rule of thumb for English text, where no tokenizer is at hand."""
