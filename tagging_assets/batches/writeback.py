"""Writing a batch's outcomes into the cache: every submitted custom_id ends tagged or failed, once.

The result files are streamed line by line and written 512 points a request, so
memory holds one page of updates whatever the batch's size. Marking items
pending at submit lives here too: both write the ``tagging`` state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tagging_assets.batches.records import BatchRecord
from tagging_assets.core.cache import CachedPoint, QdrantCache
from tagging_assets.core.contracts import (
    BatchStatus,
    IndexEntry,
    PointId,
    RunMode,
    TaggingState,
    TagSample,
    WritebackSummary,
)
from tagging_assets.core.cost import cost_of
from tagging_assets.core.models import ModelProfile
from tagging_assets.core.report import tag_frequencies
from tagging_assets.core.results import Outcome, ParseProblem, TierUsage, cost_of_tiers, read_outcomes
from tagging_assets.core.tags import NO_ALIASES, CanonicalTags, LibrarySpellings, canonicalize
from tagging_assets.wire import item_id_of

SAMPLE_SIZE = 10
_PAGE = 512


def iso(timestamp: int | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None


def _batch_of(point: CachedPoint | None) -> str | None:
    return point.tagging.batch_id if point is not None and point.tagging is not None else None


def mark_pending(cache: QdrantCache, record: BatchRecord, index: dict[str, IndexEntry]) -> int:
    """Record on each submitted point that it waits on this batch; points that already name this
    batch (pending on it, or processed) are left alone, so marking twice changes nothing."""
    submitted_at = iso(record.created_at)
    entries = list(index.values())
    marked = 0
    for start in range(0, len(entries), _PAGE):
        page = entries[start : start + _PAGE]
        current = cache.points_by_id([entry.point_id for entry in page])
        updates = [
            (
                entry.point_id,
                {"tagging": _state(record, entry, "pending", submitted_at, submitted_at, entry.attempts).model_dump()},
            )
            for entry in page
            if _batch_of(current.get(entry.point_id)) != record.batch_id
        ]
        marked += cache.set_payloads(updates)
    return marked


def tag_writer(
    cache: QdrantCache, *, aliases: Mapping[str, str] = NO_ALIASES, allowed: frozenset[str] | None = None
) -> Callable[[Sequence[str]], CanonicalTags]:
    """How a reply's tags become the tags written: canonical, their aliases applied, held to ``allowed`` (a closed
    vocabulary) where there is one, else spelled as the library already spells each stem. Write-back and the
    preview both use it, so a preview shows what a run would write."""
    spellings = (
        None if allowed is not None else LibrarySpellings(tag for tag, _ in tag_frequencies(cache)[0].most_common())
    )

    def as_written(raw: Sequence[str]) -> CanonicalTags:
        canonical = canonicalize(raw, aliases=aliases, allowed=allowed)
        return spellings.spelled(canonical) if spellings is not None else canonical

    return as_written


def write_results(
    cache: QdrantCache,
    record: BatchRecord,
    batch: BatchStatus,
    index: dict[str, IndexEntry],
    result_files: list[Path],
    profile: ModelProfile,
    progress: Callable[[int], None] | None = None,
    *,
    mode: RunMode = "batch",
    aliases: Mapping[str, str] = NO_ALIASES,
    allowed: frozenset[str] | None = None,
) -> WritebackSummary:
    """Stream the result files into the cache, one outcome per submitted custom_id. Each reply's tags are made
    canonical with ``aliases``, spelled as the library already spells each stem, and held to ``allowed`` (a closed
    vocabulary) where there is one: a tag outside it is dropped and recorded. The raw tags are kept in the item's
    state. The cost is the batch's own usage where the API reports it, billed at ``mode``; else the lines' usage
    added up, each line billed at the tier its response names; None when the model has no price."""
    tally = _Tally()
    problems: list[ParseProblem] = []
    as_written = tag_writer(cache, aliases=aliases, allowed=allowed)
    updates = _updates(record, batch, index, tally, problems, result_files, as_written)
    cache.set_payloads(updates, progress=progress)
    if batch.usage is not None:
        usage, cost = batch.usage, cost_of(profile, batch.usage, mode=mode)
    else:
        usage, cost = tally.usage.total, cost_of_tiers(profile, tally.usage, mode=mode)
    return WritebackSummary(
        batch_id=record.batch_id,
        status=batch.status,
        submitted=record.requests,
        tagged=tally.tagged,
        failed=sum(tally.failed.values()),
        failed_by_reason=dict(tally.failed),
        unknown_custom_ids=tally.unknown,
        duplicate_lines=tally.duplicates,
        unreadable_lines=len(problems),
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost_batch_usd=round(cost.batch_usd, 6) if cost else None,
        cost_realtime_usd=round(cost.realtime_usd, 6) if cost else None,
        saving_usd=round(cost.saving_usd, 6) if cost else None,
        cost_flex_usd=round(cost.flex_usd, 6) if cost and cost.flex_usd is not None else None,
        cost_billed_usd=round(cost.billed_usd, 6) if cost else None,
        cost_mode=mode,
        tags_written=dict(tally.tags.most_common()),
        few_tags=tally.few_tags,
        dropped_tags=tally.dropped_tags,
        sample=tuple(tally.sample),
    )


def _updates(
    record: BatchRecord,
    batch: BatchStatus,
    index: dict[str, IndexEntry],
    tally: _Tally,
    problems: list[ParseProblem],
    result_files: list[Path],
    as_written: Callable[[Sequence[str]], CanonicalTags],
) -> Iterator[tuple[PointId, dict[str, Any]]]:
    submitted_at, updated_at = iso(record.created_at), iso(batch.finished_at)
    seen: set[str] = set()
    for path in result_files:
        for outcome in read_outcomes(path, problems):
            entry = index.get(outcome.custom_id)
            if entry is None:
                tally.unknown += 1
                continue
            if outcome.custom_id in seen:
                tally.duplicates += 1
                continue
            seen.add(outcome.custom_id)
            reply = outcome.output
            canonical = as_written(reply.tags) if reply is not None else None
            tally.add(outcome, canonical)
            yield entry.point_id, _payload(outcome, canonical, entry, record, submitted_at, updated_at)
    reason = batch.missing_reason()
    for custom_id, entry in index.items():
        if custom_id not in seen:
            outcome = Outcome(custom_id, None, reason)
            tally.add(outcome, None)
            yield entry.point_id, _payload(outcome, None, entry, record, submitted_at, updated_at)


def _payload(
    outcome: Outcome,
    canonical: CanonicalTags | None,
    entry: IndexEntry,
    record: BatchRecord,
    submitted_at: str | None,
    updated_at: str | None,
) -> dict[str, Any]:
    """What write-back merges into one point: the tagging state, and the canonical tags and summary on a
    success, whose state keeps the reply's raw tags."""
    reply = outcome.output
    state = _state(
        record,
        entry,
        "tagged" if outcome.ok else "failed",
        submitted_at,
        updated_at,
        entry.attempts + 1,
        input_tokens=outcome.usage.input_tokens,
        cached_tokens=outcome.usage.cached_tokens,
        output_tokens=outcome.usage.output_tokens,
        reasoning_tokens=outcome.usage.reasoning_tokens,
        model_snapshot=outcome.model_snapshot,
        error=outcome.error,
        retryable=outcome.retryable,
        raw_tags=reply.tags if reply is not None else None,
        dropped_tags=list(canonical.dropped) if canonical is not None else [],
        few_tags=canonical is not None and canonical.few_tags,
    )
    payload: dict[str, Any] = {"tagging": state.model_dump()}
    if reply is not None and canonical is not None:
        payload["tags"] = list(canonical.tags)
        payload["summary"] = reply.summary
    return payload


def _state(
    record: BatchRecord,
    entry: IndexEntry,
    status: Literal["pending", "tagged", "failed"],
    submitted_at: str | None,
    updated_at: str | None,
    attempts: int,
    **outcome: Any,
) -> TaggingState:
    """A point's tagging state for this batch; ``outcome`` adds the tokens and error once results are in."""
    return TaggingState(
        status=status,
        batch_id=record.batch_id,
        model=record.model,
        backend=record.backend,
        base_url=record.base_url,
        endpoint=record.endpoint,
        prompt_version=record.prompt_version,
        content_hash=entry.content_hash,
        attempts=attempts,
        truncated=entry.truncated,
        submitted_at=submitted_at,
        updated_at=updated_at,
        **outcome,
    )


class _Tally:
    """Running counts of one batch's outcomes, and a sample of its tags."""

    def __init__(self) -> None:
        self.tagged = 0
        self.failed: Counter[str] = Counter()
        self.unknown = 0
        self.duplicates = 0
        self.usage = TierUsage()
        self.tags: Counter[str] = Counter()
        self.few_tags = 0
        self.dropped_tags = 0
        self.sample: list[TagSample] = []

    def add(self, outcome: Outcome, canonical: CanonicalTags | None) -> None:
        self.usage = self.usage.add(outcome.usage, outcome.service_tier)
        if outcome.output is None or canonical is None:
            self.failed[(outcome.error or "unknown").split(":", 1)[0]] += 1
            return
        self.tagged += 1
        self.tags.update(canonical.tags)
        self.few_tags += canonical.few_tags
        self.dropped_tags += len(canonical.dropped)
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(
                TagSample(
                    custom_id=item_id_of(outcome.custom_id) or outcome.custom_id,
                    tags=list(canonical.tags),
                    summary=outcome.output.summary,
                )
            )
