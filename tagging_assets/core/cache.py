"""The transcript cache: a Qdrant collection, embedded on disk or on a server.

Reads page through payloads only (never vectors) in large pages; writes merge
into payloads with ``batch_update_points`` of ``SetPayloadOperation`` s, many
points per call (one request to a server instead of hundreds), so nothing else
in a payload, and never the vector, changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from pydantic import ValidationError
from qdrant_client import QdrantClient, models
from qdrant_client.conversions import common_types as qdrant_types
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from tagging_assets.core.contracts import PointId, TaggingState
from tagging_assets.core.errors import CacheError
from tagging_assets.core.settings import DEFAULTS, TaggingSettings

EMBEDDED_PAGE_SIZE = 16_384
"""Points a scroll page holds in the embedded store, whose pages share the payloads it already holds in memory
(a large page costs no copies) and which sorts every point id once a page (fewer pages, less sorting)."""
SERVER_PAGE_SIZE = 1_024
"""Points a scroll page holds from a server: each page is a copy sent over the network, ~6 MB at this size
for transcripts of 1,000 words."""


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


TAGS_FIELD = "tags"
SUMMARY_FIELD = "summary"
TAGGING_FIELD = "tagging"


@dataclass(frozen=True, slots=True)
class CachedPoint:
    """One point of the cache as the library reads it: its payload checked once, here, so that selection,
    write-back and the checks read typed fields, and a malformed payload is a reason to count, never a crash."""

    point_id: PointId
    video_id: str | None
    """The video id as text; None when the payload has none, or one that is neither text nor a number."""
    title: str = ""
    transcript: str | None = None
    transcript_problem: str | None = None
    """Why there is no transcript to tag: ``missing-transcript`` or ``transcript-not-text``."""
    tags: tuple[str, ...] = ()
    tags_problem: str | None = None
    """Why the tags field is not a list of text, when it is not."""
    summary: str | None = None
    tagging: TaggingState | None = None
    tagging_problem: str | None = None
    """Why the ``tagging`` state could not be read, when it could not."""


class QdrantCache:
    """One collection of transcripts. Use it as a context manager: an embedded
    store admits one client at a time, so it must be closed promptly.

    ``QdrantCache(collection_name="nate_content")`` opens what the settings name
    (``QDRANT_URL``, else the embedded store at ``QDRANT_PATH``); ``path`` or ``url``
    choose one directly, and ``client`` wraps a client already made.
    """

    def __init__(
        self,
        collection_name: str | None = None,
        *,
        path: Path | str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        fields: CacheFields | None = None,
        client: QdrantClient | None = None,
        embedded: bool = False,
    ) -> None:
        if client is None and path is None and url is None:
            settings = TaggingSettings.from_env()
            collection_name = collection_name or settings.collection
            path, url = settings.qdrant_path, settings.qdrant_url
            api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        if client is None:
            client, embedded = _open(path, url, api_key)
        self.client = client
        self.collection = collection_name or DEFAULTS.collection
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
        """A server when ``url`` is given, else the embedded store at ``path`` (by default the settings' own)."""
        return cls(collection, path=path or DEFAULTS.qdrant_path, url=url, api_key=api_key, fields=fields)

    @classmethod
    def from_settings(cls, settings: TaggingSettings, collection: str | None = None) -> QdrantCache:
        """The cache the settings name; close it (or use it as a context manager) when done."""
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return cls.connect(collection or settings.collection, settings.qdrant_path, settings.qdrant_url, api_key)

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

    def points(self, *, transcripts: bool = False, only: models.Filter | None = None) -> Iterator[CachedPoint]:
        """Every point (or every one ``only`` matches), page by page, without its vector. With ``transcripts``, the
        fields a selection reads (the transcript, not the tags and summary); without, the tags and summary and not
        the transcript: a scan copies only what it reads, and in the embedded store every page's payloads are deep
        copies."""
        offset: qdrant_types.PointId | None = None
        fields = self._payload_fields(transcripts)
        while True:
            points, offset = self.client.scroll(
                self.collection,
                scroll_filter=only,
                limit=self.page_size,
                offset=offset,
                with_payload=fields,
                with_vectors=False,
            )
            for point in points:
                yield self._cached_point(point.id, point.payload or {})
            if offset is None:
                return

    def points_by_id(self, ids: list[PointId], *, transcripts: bool = False) -> dict[PointId, CachedPoint]:
        """The points with these ids that the cache holds, each with the fields ``points`` reads."""
        points = self.client.retrieve(
            self.collection, ids, with_payload=self._payload_fields(transcripts), with_vectors=False
        )
        return {(cached := self._cached_point(point.id, point.payload or {})).point_id: cached for point in points}

    def existing_ids(self, ids: list[PointId]) -> set[PointId]:
        return {_plain(point.id) for point in self.client.retrieve(self.collection, ids, with_payload=False)}

    def _payload_fields(self, transcripts: bool) -> list[str]:
        read = [self.fields.transcript] if transcripts else [TAGS_FIELD, SUMMARY_FIELD]
        return [self.fields.video_id, self.fields.title, TAGGING_FIELD, *read]

    def _cached_point(self, point_id: int | str | UUID, payload: dict[str, Any]) -> CachedPoint:
        fields = self.fields
        video_id = payload.get(fields.video_id)
        title = payload.get(fields.title)
        transcript = payload.get(fields.transcript)
        tags, tags_problem = _tags(payload.get(TAGS_FIELD))
        tagging, tagging_problem = _tagging(payload.get(TAGGING_FIELD))
        summary = payload.get(SUMMARY_FIELD)
        return CachedPoint(
            point_id=_plain(point_id),
            video_id=str(video_id) if isinstance(video_id, str | int) and str(video_id).strip() else None,
            title=title if isinstance(title, str) else "",
            transcript=transcript if isinstance(transcript, str) else None,
            transcript_problem=None
            if isinstance(transcript, str)
            else "missing-transcript"
            if transcript is None
            else "transcript-not-text",
            tags=tags,
            tags_problem=tags_problem,
            summary=summary if isinstance(summary, str) else None,
            tagging=tagging,
            tagging_problem=tagging_problem,
        )

    def upsert(self, points: list[models.PointStruct]) -> None:
        self.client.upsert(self.collection, points=points, wait=True)

    def set_payloads(
        self,
        updates: Iterable[tuple[PointId, dict[str, Any]]],
        batch_size: int = 512,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Merge each payload into its point, ``batch_size`` points per request. Safe to repeat.
        ``progress`` hears of each request written, with its number of points."""
        written = 0
        pending = iter(updates)
        while page := list(islice(pending, batch_size)):
            operations: list[models.UpdateOperation] = [
                models.SetPayloadOperation(set_payload=models.SetPayload(payload=payload, points=[point_id]))
                for point_id, payload in page
            ]
            self.client.batch_update_points(self.collection, update_operations=operations, wait=True)
            written += len(operations)
            if progress is not None:
                progress(len(operations))
        return written


def _open(path: Path | str | None, url: str | None, api_key: str | None) -> tuple[QdrantClient, bool]:
    """A client for the server at ``url``, else for the embedded store at ``path``; and whether it is embedded."""
    if url:
        return QdrantClient(url=url, api_key=api_key, timeout=60), False
    store = Path(path or ".qdrant")
    try:
        return QdrantClient(path=str(store)), True
    except RuntimeError as error:
        if "already accessed by another instance" in str(error):
            raise CacheError(
                f"the embedded Qdrant store {store} is open in another process (a running `dagster dev` "
                "run, another command?); wait for it to finish or stop it, then try again"
            ) from None
        raise


def _tags(value: object) -> tuple[tuple[str, ...], str | None]:
    """The tags field as text, and what is wrong with it when it is not a list of text."""
    if value is None:
        return (), None
    if not isinstance(value, list):
        return (), f"tags are {type(value).__name__}, not a list"
    texts = tuple(tag for tag in value if isinstance(tag, str))
    others = [tag for tag in value if not isinstance(tag, str)]
    return texts, f"tags hold {others[0]!r}, not text" if others else None


def _tagging(value: object) -> tuple[TaggingState | None, str | None]:
    """The tagging state, or why it cannot be read: one line naming the first field at fault."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, f"the tagging state is {type(value).__name__}, not an object"
    try:
        return TaggingState.model_validate(value), None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "tagging"
        return None, f"the tagging state's {where}: {first['msg']}"


def _reason(error: Exception) -> str:
    if isinstance(error, UnexpectedResponse):
        return f"HTTP {error.status_code}"
    return str(getattr(error, "source", None) or error)


def _plain(point_id: int | str | UUID) -> PointId:
    """Qdrant may hand a UUID object back; indexes and records keep ids as JSON, so as its string."""
    return str(point_id) if isinstance(point_id, UUID) else point_id
