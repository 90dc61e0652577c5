"""The interface the library drives a provider's Batch API through, under the name its callers import it by.

It lives in ``providers/base.py``, beside the implementations.
"""

from __future__ import annotations

from tagging_assets.batches.providers.base import (
    DEFAULT_FILE_TTL_SECONDS,
    EXPIRY_WARNING_SECONDS,
    LISTED_BATCHES_TO_SEARCH,
    BatchApi,
    Statuses,
    SubmitOptions,
    status_naming_its_api,
    statuses_by_listing,
)

__all__ = [
    "DEFAULT_FILE_TTL_SECONDS",
    "EXPIRY_WARNING_SECONDS",
    "LISTED_BATCHES_TO_SEARCH",
    "BatchApi",
    "Statuses",
    "SubmitOptions",
    "status_naming_its_api",
    "statuses_by_listing",
]
