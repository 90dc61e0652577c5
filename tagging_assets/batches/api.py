"""The interface the library drives a provider's Batch API through, under the name its callers import it by.

It lives in ``providers/base.py``, beside the implementations.
"""

from __future__ import annotations

from tagging_assets.batches.providers.base import (
    EXPIRY_WARNING_SECONDS,
    BatchApi,
    Statuses,
    SubmitOptions,
    status_naming_its_api,
)

__all__ = ["EXPIRY_WARNING_SECONDS", "BatchApi", "Statuses", "SubmitOptions", "status_naming_its_api"]
