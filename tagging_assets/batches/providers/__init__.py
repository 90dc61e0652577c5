"""One interface to every provider's Batch API (``base.BatchApi``), one implementation per provider, and the
one place that picks the implementation for the configured provider (``dispatch``). Importing this package loads
no SDK: each implementation loads its own when its provider is used."""

from tagging_assets.batches.providers.base import (
    EXPIRY_WARNING_SECONDS,
    BatchApi,
    Statuses,
    SubmitOptions,
    status_naming_its_api,
)
from tagging_assets.batches.providers.dispatch import (
    RealtimeOptions,
    batch_api_client,
    batch_api_of,
    realtime_sender,
    sdk_client,
)

__all__ = [
    "EXPIRY_WARNING_SECONDS",
    "BatchApi",
    "RealtimeOptions",
    "Statuses",
    "SubmitOptions",
    "batch_api_client",
    "batch_api_of",
    "realtime_sender",
    "sdk_client",
    "status_naming_its_api",
]
