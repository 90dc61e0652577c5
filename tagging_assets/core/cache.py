"""The transcript cache: a Qdrant collection, embedded on disk or on a server.

Reads page through payloads only (never vectors) in large pages; writes merge
into payloads with ``batch_update_points`` of ``SetPayloadOperation`` s, many
points per call, so nothing else in a payload, and never the vector, changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

PointId = int | str

EMBEDDED_PAGE_SIZE = 16_384
"""Points a scroll page holds in the embedded store, whose pages share the payloads it already holds in memory
(a large page costs no copies) and which sorts every point id once a page (fewer pages, less sorting)."""
SERVER_PAGE_SIZE = 1_024
"""Points a scroll page holds from a server: each page is a copy sent over the network, ~6 MB at this size
for transcripts of 1,000 words."""
_YIELD_EVERY = 8
"""Points built between two offers of the GIL to the writer thread (see ``set_payloads``)."""


class CacheError(RuntimeError):
    """The cache cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class CacheFields:
    """Payload field names, for caches written with other names."""

    type: str = "type"
    video_id: str = "video_id"
    title: str = "title"
    transcript: str = "transcript"
    channel: str = "channel"
    url: str = "url"
    published_at: str = "published_at"


class QdrantCache:
    """One collection of transcripts. Use it as a context manager: an embedded
    store admits one client at a time, so it must be closed promptly."""

    def __init__(
        self, client: QdrantClient, collection: str, fields: CacheFields | None = None, embedded: bool = False
    ) -> None:
        self.client = client
        self.collection = collection
        self.fields = fields or CacheFields()
        self.embedded = embedded
        self.page_size = EMBEDDED_PAGE_SIZE if embedded else SERVER_PAGE_SIZE

    @classmethod
    def connect(
        cls,
        collection: str,
        path: Path | str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        fields: CacheFields | None = None,
    ) -> QdrantCache:
        """A server when ``url`` is given, else the embedded store at ``path``."""
        if url:
            return cls(QdrantClient(url=url, api_key=api_key, timeout=60), collection, fields)
        store = Path(path or ".qdrant")
        try:
            client = QdrantClient(path=str(store))
        except RuntimeError as error:
            if "already accessed by another instance" in str(error):
                raise CacheError(
                    f"the embedded Qdrant store {store} is open in another process (a running `dagster dev` "
                    "run, another command?); wait for it to finish or stop it, then try again"
                ) from None
            raise
        return cls(client, collection, fields, embedded=True)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def exists(self) -> bool:
        try:
            return self.client.collection_exists(self.collection)
        except (ResponseHandlingException, UnexpectedResponse) as error:
            raise CacheError(f"cannot reach Qdrant ({_reason(error)}); check QDRANT_URL and QDRANT_API_KEY") from None

    def require(self) -> None:
        """Fail with one clear line when the collection is missing."""
        if not self.exists():
            raise CacheError(
                f"the collection {self.collection!r} does not exist; run `tagging-assets seed-cache` "
                "or set TAGGING_COLLECTION to your collection"
            )

    def create(self, vector_size: int) -> None:
        self.client.create_collection(
            self.collection, vectors_config=models.VectorParams(size=vector_size, distance=models.Distance.COSINE)
        )

    def count(self, only: models.Filter | None = None) -> int:
        return self.client.count(self.collection, count_filter=only, exact=True).count

    def scroll(
        self, fields: list[str], only: models.Filter | None = None, page_size: int | None = None
    ) -> Iterator[tuple[PointId, dict[str, Any]]]:
        """Every point's id and the named payload fields, page by page."""
        offset: PointId | None = None
        while True:
            points, offset = self.client.scroll(
                self.collection,
                scroll_filter=only,
                limit=page_size or self.page_size,
                offset=offset,
                with_payload=fields,
                with_vectors=False,
            )
            for point in points:
                yield point.id, point.payload or {}
            if offset is None:
                return

    def existing_ids(self, ids: list[PointId]) -> set[PointId]:
        return {point.id for point in self.client.retrieve(self.collection, ids, with_payload=False)}

    def retrieve(self, ids: list[PointId], fields: list[str]) -> dict[PointId, dict[str, Any]]:
        points = self.client.retrieve(self.collection, ids, with_payload=fields, with_vectors=False)
        return {point.id: point.payload or {} for point in points}

    def upsert(self, points: list[models.PointStruct]) -> None:
        self.client.upsert(self.collection, points=points, wait=True)

    def set_payloads(
        self,
        updates: Iterable[tuple[PointId, dict[str, Any]]],
        batch_size: int = 512,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Merge each payload into its point, ``batch_size`` points per request. Safe to repeat.
        ``progress`` hears of each request written, with its number of points.

        Each request is written on a background thread while the next is built
        from ``updates``: the store waits on the disk or the network with the GIL
        released, so whatever produces the updates (parsing result files) runs in
        that wait. At most one request is in flight. The writer is the slower of
        the two, so the builder hands it the GIL every few points: otherwise each
        time the writer comes back from the disk it may wait out Python's whole
        switch interval (5 ms) for the builder to let go.
        """
        written = 0
        in_flight: Future[int] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-write") as writer:
            operations: list[models.UpdateOperation] = []
            for point_id, payload in updates:
                operations.append(_set_payload(point_id, payload))
                if in_flight is not None and len(operations) % _YIELD_EVERY == 0:
                    time.sleep(0)
                if len(operations) == batch_size:
                    written += in_flight.result() if in_flight is not None else 0
                    in_flight = writer.submit(self._apply, operations, progress)
                    operations = []
            written += in_flight.result() if in_flight is not None else 0
            if operations:
                written += self._apply(operations, progress)
        return written

    def _apply(self, operations: list[models.UpdateOperation], progress: Callable[[int], None] | None = None) -> int:
        self.client.batch_update_points(self.collection, update_operations=operations, wait=True)
        if progress is not None:
            progress(len(operations))
        return len(operations)


def _set_payload(point_id: PointId, payload: dict[str, Any]) -> models.SetPayloadOperation:
    """The operation, built without validating it again: the payload is this project's own, and validation
    would take nearly three times as long as building it."""
    return models.SetPayloadOperation.model_construct(
        set_payload=models.SetPayload.model_construct(payload=payload, points=[point_id])
    )


def _reason(error: Exception) -> str:
    if isinstance(error, UnexpectedResponse):
        return f"HTTP {error.status_code}"
    return str(getattr(error, "source", None) or error)
