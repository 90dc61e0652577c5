"""Which points of the cache need tags now, streamed from one scan of their payloads.

Memory does not grow with the cache beyond the set of video ids seen, which
catches duplicates: points are read a page at a time and handed on one by one.
"""

from __future__ import annotations

import gc
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import xxhash
from qdrant_client import models

from tagging_assets.core.cache import CachedPoint, QdrantCache
from tagging_assets.core.contracts import Backend, PointId, SelectionReport, TaggingState
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import DEFAULTS
from tagging_assets.core.tokens import TokenCounter

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_PROGRESS_EVERY = 1000
_MANIFEST_PAGE = 256
"""Points read back a call when requests are written from a manifest."""

Filters = models.Filter | Mapping[str, Any] | None
"""Which points to consider: a qdrant ``Filter``, or the lesson's dict of payload field and value, each an exact
match."""


def custom_id_for(video_id: str) -> str:
    return f"youtube:{video_id}"


def content_hash(title: str, transcript: str) -> str:
    """What the tags were made from; a change makes the item stale.

    XXH3-128 spots any change as surely as a cryptographic hash would (nobody is
    forging transcripts against their own cache) and runs ten times faster,
    which matters when a scan hashes every transcript in the cache.
    """
    return xxhash.xxh3_128_hexdigest(f"{title}\n{transcript}".encode("utf-8", "surrogatepass"))


def as_filter(filters: Filters) -> models.Filter | None:
    """A qdrant filter from either form; ``{"type": "youtube_video"}`` matches points whose ``type`` is that."""
    if filters is None or isinstance(filters, models.Filter):
        return filters
    if not isinstance(filters, Mapping):
        raise ConfigError(f"filters must be a qdrant Filter or a dict of field and value, not {type(filters).__name__}")
    conditions: list[models.Condition] = []
    for key, value in filters.items():
        if not isinstance(value, str | int | bool):
            raise ConfigError(f"filter {key!r}: a value must be a string, a whole number or a boolean, not {value!r}")
        conditions.append(models.FieldCondition(key=str(key), match=models.MatchValue(value=value)))
    return models.Filter(must=conditions) if conditions else None


def parse_where(pairs: Iterable[str]) -> dict[str, str | int | bool]:
    """``--where field=value`` pairs as a filter dict; ``true``, ``false`` and whole numbers keep their types."""
    found: dict[str, str | int | bool] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--where {pair!r}: expected FIELD=VALUE, e.g. --where type=youtube_video")
        value: str | int | bool = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.lstrip("-").isdigit():
            value = int(raw)
        found[key.strip()] = value
    return found


@dataclass(slots=True)
class CacheItem:
    """One transcript that needs tags, with what write-back will need.

    A plain slotted record, not a frozen one: a scan makes one per selected point,
    and a frozen dataclass takes five times as long to build."""

    point_id: PointId
    video_id: str
    title: str
    transcript: str
    content_hash: str
    attempts: int
    reason: str
    truncated: bool = False
    previous_prompt_version: str | None = None
    """The prompt version the item was tagged under, when a new prompt is why it is selected: what ``prepare``
    says a prompt change costs."""

    @property
    def custom_id(self) -> str:
        return custom_id_for(self.video_id)


def sendable(text: str) -> str:
    """``text`` as a UTF-8 file can hold it: a lone surrogate (half of an emoji cut in two, which an embedded
    store keeps as it was given) becomes U+FFFD. ASCII text, the usual case, costs nothing to check."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a point needs tags now, why (or why not), and its attempts so far."""

    needs_tags: bool
    reason: str
    attempts: int = 0


def decide(
    tagging: TaggingState | None,
    item_hash: str,
    *,
    model: str,
    prompt_version: str,
    max_attempts: int,
    backend: Backend = "api",
) -> Decision:
    """Whether a point with this tagging state needs tagging now.

    Tags the offline tagger wrote (the demo's) stand in for a model's until a model answers (``backend`` "api",
    or "upstream": a model server behind the gateway); then they are tagged again, counted as ``offline-tags``.
    A model's tags, through the gateway or not, are kept unless its name changes."""
    if tagging is None:
        return Decision(True, "new")
    attempts = tagging.attempts
    if tagging.status == "pending":
        return Decision(False, "pending", attempts)
    if tagging.content_hash != item_hash:
        return Decision(True, "content-changed")
    if tagging.prompt_version != prompt_version:
        return Decision(True, "prompt-changed")
    if tagging.status == "tagged" and tagging.backend == "offline-tagger" and backend != "offline-tagger":
        return Decision(True, "offline-tags")
    if tagging.model != model:
        return Decision(True, "model-changed")
    if tagging.status == "failed":
        if attempts < max_attempts and tagging.retryable:
            return Decision(True, "retry", attempts)
        return Decision(False, "given-up", attempts)
    return Decision(False, "up-to-date", attempts)


def select_items(
    cache: QdrantCache,
    report: SelectionReport,
    *,
    model: str,
    prompt_version: str,
    max_attempts: int,
    counter: TokenCounter,
    backend: Backend = "api",
    max_transcript_tokens: int = DEFAULTS.max_transcript_tokens,
    only: Filters = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[CacheItem]:
    """Stream the points that need tags; count the rest in ``report``, each with its reason.
    ``progress`` hears of the points scanned, a thousand at a time, for a progress bar."""
    max_tokens = max_transcript_tokens
    seen_videos: set[str] = set()
    selected, skipped = report.selected, report.skipped
    scanned = truncated_count = 0
    try:
        for point in cache.points(transcripts=True, only=as_filter(only)):
            scanned += 1
            if progress is not None and scanned % _PROGRESS_EVERY == 0:
                progress(_PROGRESS_EVERY)
            video_id, transcript = point.video_id, point.transcript
            if video_id is None:
                skipped["missing-video-id"] = skipped.get("missing-video-id", 0) + 1
                continue
            if video_id in seen_videos:
                skipped["duplicate-video-id"] = skipped.get("duplicate-video-id", 0) + 1
                continue
            seen_videos.add(video_id)
            if transcript is None:
                reason = point.transcript_problem or "missing-transcript"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            if not transcript or transcript.isspace():
                skipped["empty-transcript"] = skipped.get("empty-transcript", 0) + 1
                continue
            if point.tagging_problem is not None:
                skipped["malformed-tagging"] = skipped.get("malformed-tagging", 0) + 1
                continue
            item_hash = content_hash(point.title, transcript)
            decision = decide(
                point.tagging,
                item_hash,
                model=model,
                prompt_version=prompt_version,
                max_attempts=max_attempts,
                backend=backend,
            )
            if not decision.needs_tags:
                skipped[decision.reason] = skipped.get(decision.reason, 0) + 1
                continue
            selected[decision.reason] = selected.get(decision.reason, 0) + 1
            item = _cache_item(
                point.point_id,
                video_id,
                point.title,
                transcript,
                item_hash,
                decision.attempts,
                decision.reason,
                counter,
                max_tokens,
            )
            if decision.reason == "prompt-changed" and point.tagging is not None:
                item.previous_prompt_version = point.tagging.prompt_version or "unversioned"
            truncated_count += item.truncated
            yield item
    finally:
        report.scanned += scanned
        report.truncated += truncated_count


def _cache_item(
    point_id: PointId,
    video_id: str,
    title: str,
    transcript: str,
    item_hash: str,
    attempts: int,
    reason: str,
    counter: TokenCounter,
    max_transcript_tokens: int,
) -> CacheItem:
    """A selected point as requests are written from it: trimmed to the token budget, and sendable."""
    transcript, truncated = counter.trim(transcript, max_transcript_tokens)
    return CacheItem(
        point_id, sendable(video_id), sendable(title), sendable(transcript), item_hash, attempts, reason, truncated
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a scan streams through the cache.

    A scan allocates tens of thousands of objects a page, and each burst sets off
    collections that walk every object the embedded store holds: at 50,000 points
    the benchmark's raw scroll takes 0.90 s with the collector and 0.54 s without
    (1.66 s and 1.19 s on a busier machine): 28-40% of the scan.
    Nothing a scan makes holds a reference cycle, so reference counting frees it
    all the same; the collector runs again as soon as the scan ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_manifest(items: Iterable[CacheItem], path: Path) -> int:
    """Write the selected items without their transcripts: point id, content hash, attempts and reason, a few
    dozen bytes each. The request files are then the only copy of the transcripts the work directory holds
    (a snapshot with them doubled the cache on disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb") as manifest:
        for item in items:
            entry = {
                "point_id": item.point_id,
                "content_hash": item.content_hash,
                "attempts": item.attempts,
                "reason": item.reason,
            }
            manifest.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return count


def _unchanged(point: CachedPoint, selected_hash: str) -> bool:
    return point.transcript is not None and content_hash(point.title, point.transcript) == selected_hash


def read_manifest(
    cache: QdrantCache,
    path: Path,
    *,
    counter: TokenCounter,
    max_transcript_tokens: int = DEFAULTS.max_transcript_tokens,
    changed: Callable[[], None] | None = None,
) -> Iterator[CacheItem]:
    """The manifest's items with their transcripts read again from the cache, a page of ids a call. An item
    gone from the cache, or whose title or transcript changed since it was selected, is left for the next
    selection (which finds it changed) and ``changed`` hears of it: its requests would not match its hash."""
    with path.open("rb") as manifest:
        while page := [orjson.loads(line) for line in itertools.islice(manifest, _MANIFEST_PAGE)]:
            points = cache.points_by_id([entry["point_id"] for entry in page], transcripts=True)
            for entry in page:
                point = points.get(entry["point_id"])
                if point is None or point.transcript is None or not _unchanged(point, entry["content_hash"]):
                    if changed is not None:
                        changed()
                    continue
                yield _cache_item(
                    entry["point_id"],
                    str(point.video_id),
                    point.title,
                    point.transcript,
                    entry["content_hash"],
                    entry["attempts"],
                    entry["reason"],
                    counter,
                    max_transcript_tokens,
                )
