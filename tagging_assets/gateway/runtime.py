"""What every route of one gateway instance shares: its settings, its store, its tagger processes and the count
of requests it served, started and stopped with the app."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from tagging_assets.core.protocol import COMPLETION_WINDOW
from tagging_assets.gateway.arrivals import Arrivals
from tagging_assets.gateway.pool import TaggerPool
from tagging_assets.gateway.settings import GatewaySettings
from tagging_assets.gateway.store import GatewayStore
from tagging_assets.gateway.upstream import Upstream
from tagging_assets.gateway.worker import BatchWorker

COMPLETION_WINDOW_SECONDS = 24 * 60 * 60
"""The Batch API's one completion window (``COMPLETION_WINDOW``), in seconds."""


class GatewayRuntime:
    """One gateway's state while it serves; the store, the pool and the batch worker exist inside ``lifespan``.

    A ``pool`` given from outside outlives the app, ready for the next one of the same process (a job carries
    everything the tagger needs, so a pool holds nothing of the app that used it); without it the app starts its
    own and stops it."""

    def __init__(self, settings: GatewaySettings, pool: TaggerPool | None = None) -> None:
        self.settings = settings
        self.faults = settings.faults
        self.store: GatewayStore
        self.pool: TaggerPool
        self._given_pool = pool
        self.served: Counter[str] = Counter()
        """API requests served since start, by method and route."""
        self.arrivals = Arrivals()
        self.upstream = Upstream(settings) if settings.upstream is not None else None
        """The model server that answers instead of the offline tagger (``--upstream``), if any."""

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.store = GatewayStore(self.settings.state_dir)
        self.pool = self._given_pool or TaggerPool(self.settings.workers)
        worker = BatchWorker(self.store, self.settings, self.pool, self.upstream)
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            if self.upstream is not None:
                self.upstream.close()
            if self._given_pool is None:
                self.pool.shutdown()
            self.store.close()

    def new_batch(
        self,
        batch_id: str,
        endpoint: str,
        input_file_id: str,
        metadata: dict[str, str] | None,
        output_ttl: int | None,
        total: int = 0,
        *,
        window_seconds: float = COMPLETION_WINDOW_SECONDS,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A batch in ``validating``, stored for the worker to move on; every protocol's batches start here.
        ``window_seconds`` is the API's own (the expire fault shortens it); ``details`` are kept in the object
        (a Gemini job's ``gemini``)."""
        created = time.time()
        window = self.faults.expire_after_seconds or window_seconds
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "model": None,
            "errors": None,
            "input_file_id": input_file_id,
            "completion_window": COMPLETION_WINDOW,
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(created),
            "in_progress_at": None,
            "expires_at": int(created + window),
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": total, "completed": 0, "failed": 0},
            "usage": {
                "input_tokens": 0,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 0,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 0,
            },
            "metadata": metadata,
            **(details or {}),
        }
        self.store.add_batch(batch, deadline=created + window, output_ttl=output_ttl)
        return batch
