"""What the cache's tags say: how often each occurs, which videos carry one, and how far the vocabulary has
sprawled (tags on one video only, videos that share no tag, groups of tags that are likely the same)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from qdrant_client import models

from tagging_assets.core.cache import TAGS_FIELD, QdrantCache
from tagging_assets.core.contracts import PointId
from tagging_assets.core.tags import canonical_form, stem_key

_FACET_PAGE = 100_000
"""Distinct tags asked of the store at first, more than most caches have: a store counts every tag whatever the
limit, so a vocabulary that fills it is asked again, four times larger, rather than page by page."""


MIN_EDIT_LENGTH = 6
"""Tags one edit apart are likely the same only when both are this long: ``rag`` and ``rat`` are two ideas,
``kubernetes`` and ``kubernetis`` one."""

NearDuplicateReason = Literal["stem", "alias", "edit"]


@dataclass(frozen=True)
class VocabularyFigures:
    """How coherent the cache's vocabulary is: a library whose tags each sit on one video groups nothing."""

    distinct_tags: int
    tagged_videos: int
    single_video_tags: int
    videos_sharing_a_tag: int
    """Tagged videos with at least one tag that another video carries too."""

    @property
    def single_video_tag_share(self) -> float:
        return self.single_video_tags / self.distinct_tags if self.distinct_tags else 0.0

    @property
    def videos_sharing_a_tag_share(self) -> float:
        return self.videos_sharing_a_tag / self.tagged_videos if self.tagged_videos else 0.0

    def to_json(self) -> dict[str, int | float]:
        """The figures for ``--json`` and Dagster metadata, shares rounded to four places."""
        return {
            "distinct_tags": self.distinct_tags,
            "tagged_videos": self.tagged_videos,
            "single_video_tags": self.single_video_tags,
            "single_video_tag_share": round(self.single_video_tag_share, 4),
            "videos_sharing_a_tag": self.videos_sharing_a_tag,
            "videos_sharing_a_tag_share": round(self.videos_sharing_a_tag_share, 4),
        }


@dataclass(frozen=True)
class NearDuplicateGroup:
    """Tags that are likely one tag, the one to merge into first: an alias's canonical tag when the group has
    it, else the most used."""

    tags: tuple[str, ...]
    reasons: tuple[NearDuplicateReason, ...]

    @property
    def into(self) -> str:
        return self.tags[0]

    def to_json(self) -> dict[str, list[str]]:
        return {"tags": list(self.tags), "reasons": list(self.reasons)}


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


def vocabulary_figures(cache: QdrantCache, frequencies: Counter[str], tagged_videos: int) -> VocabularyFigures:
    """The sprawl figures for ``tag_frequencies``' counts. The videos sharing a tag are counted by the store too,
    as the videos carrying any tag that more than one video carries, so no point's tags are read."""
    shared = [tag for tag, count in frequencies.items() if count > 1]
    sharing = 0
    if shared:
        ensure_tag_index(cache)
        sharing = cache.count(
            models.Filter(must=[models.FieldCondition(key=TAGS_FIELD, match=models.MatchAny(any=shared))])
        )
    return VocabularyFigures(
        distinct_tags=len(frequencies),
        tagged_videos=tagged_videos,
        single_video_tags=sum(1 for count in frequencies.values() if count == 1),
        videos_sharing_a_tag=sharing,
    )


def near_duplicate_groups(
    frequencies: Counter[str], *, aliases: Mapping[str, str] | None = None
) -> list[NearDuplicateGroup]:
    """Groups of the cache's tags that are likely one tag: one stem key (``gpu``, ``gpus``), one alias target
    (the variant and its canonical tag), or one edit apart when both are at least ``MIN_EDIT_LENGTH`` long. A
    tag linked to two others joins both into one group, as a merge would."""
    tags = sorted(frequencies)
    parent = {tag: tag for tag in tags}
    reasons: dict[str, set[NearDuplicateReason]] = defaultdict(set)

    def root(tag: str) -> str:
        while parent[tag] != tag:
            parent[tag] = parent[parent[tag]]
            tag = parent[tag]
        return tag

    def join(linked: Iterable[list[str]], reason: NearDuplicateReason) -> None:
        for members in linked:
            for other in members[1:]:
                first, second = root(members[0]), root(other)
                if first != second:
                    parent[second] = first
                    reasons[first] |= reasons.pop(second, set())
                reasons[first].add(reason)

    aliases = aliases or {}
    alias_targets = {tag: aliases.get(canonical_form(tag), canonical_form(tag)) for tag in tags}
    named = set(aliases) | set(aliases.values())
    join(_same_key(tags, stem_key), "stem")
    join(_same_key([tag for tag in tags if canonical_form(tag) in named], alias_targets.__getitem__), "alias")
    join(_one_edit_apart(tags), "edit")
    members: dict[str, list[str]] = defaultdict(list)
    for tag in tags:
        members[root(tag)].append(tag)
    groups = [
        NearDuplicateGroup(
            tags=tuple(sorted(group, key=lambda tag: (alias_targets[tag] != tag, -frequencies[tag], tag))),
            reasons=tuple(sorted(reasons[top])),
        )
        for top, group in members.items()
        if len(group) > 1
    ]
    return sorted(groups, key=lambda group: (-sum(frequencies[tag] for tag in group.tags), group.tags))


def _same_key(tags: list[str], key_of: Callable[[str], str]) -> list[list[str]]:
    by_key: dict[str, list[str]] = defaultdict(list)
    for tag in tags:
        by_key[key_of(tag)].append(tag)
    return [group for group in by_key.values() if len(group) > 1]


def _one_edit_apart(tags: list[str]) -> list[list[str]]:
    """Pairs of long tags at Levenshtein distance one. Two such tags share a one-deletion variant (or one is the
    other's), so only tags sharing one are compared: the vocabulary's size times a tag's length, not its square."""
    by_deletion: dict[str, list[str]] = defaultdict(list)
    for tag in tags:
        if len(tag) >= MIN_EDIT_LENGTH:
            for variant in {tag, *(tag[:at] + tag[at + 1 :] for at in range(len(tag)))}:
                by_deletion[variant].append(tag)
    pairs = {
        (first, second)
        for group in by_deletion.values()
        for index, first in enumerate(group)
        for second in group[index + 1 :]
        if first != second and _one_edit(first, second)
    }
    return [list(pair) for pair in sorted(pairs)]


def _one_edit(first: str, second: str) -> bool:
    """Whether one substitution, insertion or deletion turns ``first`` into ``second`` (they differ)."""
    if len(first) == len(second):
        return sum(a != b for a, b in zip(first, second, strict=True)) == 1
    shorter, longer = sorted((first, second), key=len)
    if len(longer) - len(shorter) != 1:
        return False
    at = next((index for index, (a, b) in enumerate(zip(shorter, longer[:-1], strict=True)) if a != b), len(shorter))
    return shorter[at:] == longer[at + 1 :]
