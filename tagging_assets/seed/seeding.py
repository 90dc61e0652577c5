"""Loading transcripts into the cache, as the caching step upstream of this project would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_client import models

from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import InputError
from tagging_assets.seed.embedding import DIMENSIONS, embed

OPTIONAL_FIELDS = ("channel", "url", "published_at")


@dataclass(frozen=True)
class Transcript:
    """One video as the caching step upstream writes it into the cache; ``transcript`` is None for a video that
    has none (a point the selection then skips, with its reason)."""

    video_id: str
    title: str = ""
    transcript: str | None = None
    channel: str | None = None
    url: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class SeedReport:
    added: int
    already_present: int


def point_id_for(video_id: str) -> str:
    """A stable point id, so seeding twice finds the points it wrote."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"youtube:{video_id}"))


def read_transcripts_jsonl(path: Path) -> Iterator[Transcript]:
    """Items from a JSONL file of ``{video_id, title, transcript, ...}``, checked line by line."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(item, dict):
                raise InputError(f"{path}:{number}: each line must be a JSON object")
            if not isinstance(item.get("video_id"), str) or not item["video_id"].strip():
                raise InputError(f"{path}:{number}: missing 'video_id' (a non-empty string)")
            for name in ("title", "transcript", *OPTIONAL_FIELDS):
                if item.get(name) is not None and not isinstance(item[name], str):
                    raise InputError(f"{path}:{number}: '{name}' must be a string")
            yield Transcript(
                video_id=item["video_id"],
                title=item.get("title") or "",
                transcript=item.get("transcript"),
                **{name: item.get(name) for name in OPTIONAL_FIELDS},
            )


def seed_cache(cache: QdrantCache, items: Iterable[Transcript], batch_size: int = 256) -> SeedReport:
    """Add the items that are not in the cache yet; points already there are left exactly as they are."""
    if not cache.exists():
        cache.create(DIMENSIONS)
    added = present = 0
    batch: list[Transcript] = []
    for item in items:
        batch.append(item)
        if len(batch) == batch_size:
            added, present = _add(cache, batch, added, present)
            batch = []
    if batch:
        added, present = _add(cache, batch, added, present)
    return SeedReport(added, present)


def _add(cache: QdrantCache, batch: list[Transcript], added: int, present: int) -> tuple[int, int]:
    ids = {point_id_for(item.video_id): item for item in batch}
    existing = cache.existing_ids(list(ids))
    points = [_point(point_id, item, cache) for point_id, item in ids.items() if point_id not in existing]
    if points:
        cache.upsert(points)
    return added + len(points), present + len(batch) - len(points)


def _point(point_id: str, item: Transcript, cache: QdrantCache) -> models.PointStruct:
    fields = cache.fields
    payload: dict[str, Any] = {fields.type: "youtube_video", fields.video_id: item.video_id, fields.title: item.title}
    if item.transcript is not None:
        payload[fields.transcript] = item.transcript
    for name in OPTIONAL_FIELDS:
        if getattr(item, name) is not None:
            payload[getattr(fields, name)] = getattr(item, name)
    vector = embed(f"{item.title}\n{item.transcript or ''}")
    return models.PointStruct(id=point_id, vector=vector, payload=payload)
