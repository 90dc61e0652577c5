"""Merging tags across the cache: the repair for a sprawling vocabulary, with no request and no cost.

A merge rewrites only each point's ``tags`` and appends to its ``tagging.merges`` (written at that nested key,
so no other field of the state is touched), streaming through the points that carry a tag to merge, a page at a
time, one request a page. A merged tag no longer occurs, so merging again finds nothing: no write, no record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qdrant_client import models

from tagging_assets.core.cache import TAGGING_FIELD, TAGS_FIELD, QdrantCache
from tagging_assets.core.contracts import PointId
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.report import ensure_tag_index
from tagging_assets.core.tags import canonical_form

MERGES_FIELD = "merges"
"""The list in a point's ``tagging`` state that records each merge of its tags: ``{from, into, at}``."""
EXAMPLES_KEPT = 20
"""Videos a merge report lists; the rest are counted."""


@dataclass(frozen=True)
class MergePlan:
    """Which tag becomes which, chains already followed (``a -> b``, ``b -> c`` is ``a -> c``), so that one pass
    leaves no tag the plan would change again."""

    into_by_tag: Mapping[str, str]

    @classmethod
    def of_tags(cls, sources: Sequence[str], into: str) -> MergePlan:
        """``tags merge FROM... INTO``: each FROM exactly as the cache spells it, INTO in canonical form."""
        target = canonical_form(into)
        if not target:
            raise ConfigError(f"cannot merge into {into!r}: nothing of it is left as a tag")
        return cls({source: target for source in sources if source != target})

    @classmethod
    def of_aliases(cls, aliases: Mapping[str, str]) -> MergePlan:
        """``tags merge --aliases FILE``: every variant into its canonical tag, refusing a loop of aliases."""
        resolved: dict[str, str] = {}
        for variant in aliases:
            seen = [variant]
            target = aliases[variant]
            while target in aliases and target != aliases[target]:
                if target in seen:
                    raise ConfigError(f"the aliases loop: {' -> '.join([*seen, target])}")
                seen.append(target)
                target = aliases[target]
            if target != variant:
                resolved[variant] = target
        return cls(resolved)

    def rewrite(self, tags: Sequence[str]) -> tuple[list[str], list[tuple[tuple[str, ...], str]]]:
        """The tags after the merge, in their order, each once; and which of them went into which tag."""
        merged: list[str] = []
        sources: dict[str, list[str]] = {}
        for tag in tags:
            into = self.into_by_tag.get(tag, tag)
            if into != tag:
                sources.setdefault(into, []).append(tag)
            if into not in merged:
                merged.append(into)
        return merged, [(tuple(found), into) for into, found in sources.items()]


@dataclass(frozen=True)
class MergedVideo:
    """One video whose tags a merge changes, as the report lists it."""

    point_id: PointId
    video_id: str
    title: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class MergeReport:
    """What a merge changed, or with ``dry_run`` would change."""

    dry_run: bool
    videos_changed: int
    videos_by_merge: Counter[tuple[str, str]] = field(default_factory=Counter)
    """How many videos each ``(from, into)`` rewrote."""
    examples: tuple[MergedVideo, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "videos_changed": self.videos_changed,
            "merges": [
                {"from": source, "into": into, "videos": count}
                for (source, into), count in sorted(self.videos_by_merge.items())
            ],
            "examples": [
                {
                    "point_id": video.point_id,
                    "video_id": video.video_id,
                    "title": video.title,
                    "before": list(video.before),
                    "after": list(video.after),
                }
                for video in self.examples
            ],
        }


def merge_tags(cache: QdrantCache, plan: MergePlan, *, dry_run: bool = False, at: str | None = None) -> MergeReport:
    """Rewrite every point carrying a tag ``plan`` merges; ``dry_run`` reads the same points and writes nothing.
    ``at`` is the time the merge records (by default now)."""
    if not plan.into_by_tag:
        return MergeReport(dry_run=dry_run, videos_changed=0)
    ensure_tag_index(cache)
    when = at or datetime.now(UTC).isoformat(timespec="seconds")
    changed = 0
    by_merge: Counter[tuple[str, str]] = Counter()
    examples: list[MergedVideo] = []
    for page in _pages_with_tags(cache, list(plan.into_by_tag)):
        operations: list[models.UpdateOperation] = []
        for point_id, payload in page:
            before = payload.get(TAGS_FIELD)
            if not isinstance(before, list) or not all(isinstance(tag, str) for tag in before):
                continue
            after, merges = plan.rewrite(before)
            if after == before:
                continue
            changed += 1
            by_merge.update((source, into) for found, into in merges for source in found)
            if len(examples) < EXAMPLES_KEPT:
                examples.append(_video(cache, point_id, payload, before, after))
            operations.extend(_writes(point_id, payload.get(TAGGING_FIELD), after, merges, when))
        if operations and not dry_run:
            cache.client.batch_update_points(cache.collection, update_operations=operations, wait=True)
    return MergeReport(dry_run=dry_run, videos_changed=changed, videos_by_merge=by_merge, examples=tuple(examples))


def _pages_with_tags(cache: QdrantCache, tags: list[str]) -> Iterator[list[tuple[PointId, dict[str, Any]]]]:
    """The points carrying any of ``tags``, a page at a time, with the fields a merge reads and nothing else."""
    only = models.Filter(must=[models.FieldCondition(key=TAGS_FIELD, match=models.MatchAny(any=tags))])
    fields = [TAGS_FIELD, TAGGING_FIELD, cache.fields.video_id, cache.fields.title]
    offset: Any = None
    while True:
        points, offset = cache.client.scroll(
            cache.collection,
            scroll_filter=only,
            limit=cache.page_size,
            offset=offset,
            with_payload=fields,
            with_vectors=False,
        )
        yield [(_plain(point.id), point.payload or {}) for point in points]
        if offset is None:
            return


def _writes(
    point_id: PointId, state: object, after: list[str], merges: list[tuple[tuple[str, ...], str]], at: str
) -> list[models.UpdateOperation]:
    """The tags, and the merge records appended under ``tagging.merges``. A point with no tagging state (tags
    written outside the pipeline) gets its tags only: a state made of merges alone would read as malformed."""
    writes: list[models.UpdateOperation] = [
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={TAGS_FIELD: after}, points=[point_id]))
    ]
    if isinstance(state, dict):
        recorded = state.get(MERGES_FIELD)
        records = [*(recorded if isinstance(recorded, list) else [])]
        records.extend({"from": list(found), "into": into, "at": at} for found, into in merges)
        writes.append(
            models.SetPayloadOperation(
                set_payload=models.SetPayload(payload={MERGES_FIELD: records}, points=[point_id], key=TAGGING_FIELD)
            )
        )
    return writes


def _video(
    cache: QdrantCache, point_id: PointId, payload: dict[str, Any], before: list[str], after: list[str]
) -> MergedVideo:
    video_id = payload.get(cache.fields.video_id)
    title = payload.get(cache.fields.title)
    return MergedVideo(
        point_id=point_id,
        video_id=str(video_id) if video_id is not None else "",
        title=title if isinstance(title, str) else "",
        before=tuple(before),
        after=tuple(after),
    )


def _plain(point_id: object) -> PointId:
    return point_id if isinstance(point_id, int | str) else str(point_id)
