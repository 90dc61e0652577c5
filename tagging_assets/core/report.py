"""What the cache's tags say: how often each occurs, and which videos carry one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from qdrant_client import models

from tagging_assets.core.cache import TAGS_FIELD, QdrantCache
from tagging_assets.core.contracts import PointId

_FACET_PAGE = 100_000
"""Distinct tags asked of the store at first, more than most caches have: a store counts every tag whatever the
limit, so a vocabulary that fills it is asked again, four times larger, rather than page by page."""


@dataclass(frozen=True)
class TaggedVideo:
    """One video carrying a tag, as `tagging-assets search` lists it."""

    point_id: PointId
    video_id: str
    title: str
    tags: list[str]
    summary: str


def tag_frequencies(cache: QdrantCache) -> tuple[Counter[str], int]:
    """How many videos carry each tag, and how many videos have tags at all.

    The store counts: a facet and a count over the tags field, which a server
    answers from its keyword index, so the report after every batch costs the
    size of the tag vocabulary, not a transfer of every point's tags.
    """
    ensure_tag_index(cache)
    limit = _FACET_PAGE
    while True:
        hits = cache.client.facet(cache.collection, TAGS_FIELD, limit=limit, exact=True).hits
        if len(hits) < limit:
            break
        limit *= 4
    frequencies = Counter({hit.value: hit.count for hit in hits if isinstance(hit.value, str)})
    has_tags = models.Filter(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key=TAGS_FIELD))])
    return frequencies, cache.count(has_tags)


def ensure_tag_index(cache: QdrantCache) -> bool:
    """A keyword index on the tags field, so a search by tag reads only the matching points. The embedded store
    has no payload indexes (it filters by scanning), so there is nothing to make; True when an index exists."""
    if cache.embedded:
        return False
    schema = cache.client.get_collection(cache.collection).payload_schema
    if TAGS_FIELD not in schema:
        cache.client.create_payload_index(
            cache.collection, TAGS_FIELD, field_schema=models.PayloadSchemaType.KEYWORD, wait=True
        )
    return True


def videos_with_tag(cache: QdrantCache, tag: str) -> list[TaggedVideo]:
    """Every video whose tags include ``tag``, found by a payload filter on the tags field."""
    ensure_tag_index(cache)
    only = models.Filter(must=[models.FieldCondition(key=TAGS_FIELD, match=models.MatchValue(value=tag))])
    found = [
        TaggedVideo(
            point_id=point.point_id,
            video_id=point.video_id or "",
            title=point.title,
            tags=list(point.tags),
            summary=point.summary or "",
        )
        for point in cache.points(only=only)
    ]
    return sorted(found, key=lambda video: (video.title.lower(), video.video_id))
