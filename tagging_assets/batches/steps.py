"""The pipeline's steps, one typed function each: select, write the request files, submit, write back.

The Dagster assets, the command line and the lesson's ``BatchProcessor`` all call these, so each guard holds on
every path, in the same order: the input is audited before anything is uploaded, and the cost cap is checked on
the whole submission and again on every new batch. The status and download steps are the provider interface's own
(``status_naming_its_api`` and ``BatchApi.download``), so that ``tagging-assets status`` loads neither the cache
nor this module.

Every step is safe to repeat: a submission finds the batch it already made, marking pending and writing back
change nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from pathlib import Path

from tagging_assets.batches.jobs import Jobs
from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.batches.providers import SubmitOptions
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.batches.writeback import mark_pending, write_results
from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import (
    BatchStatus,
    DownloadedFiles,
    SelectionReport,
    Shard,
    Submission,
    SubmittedBatch,
    WritebackSummary,
)
from tagging_assets.core.errors import BatchError, InputError, TokenBudgetError
from tagging_assets.core.report import tag_frequencies
from tagging_assets.core.selection import CacheItem, Filters, collector_paused, read_manifest, select_items
from tagging_assets.core.shards import index_path_for, load_shard, read_index, write_shards


def select(
    cache: QdrantCache,
    plan: TaggingPlan,
    *,
    report: SelectionReport,
    filters: Filters = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[CacheItem]:
    """The items that need tags now, streamed from one scan of the cache; the rest are counted in ``report`` with
    their reasons. ``limit`` stops the scan at that many items, to try a prompt on a few first. ``progress`` hears
    of the points scanned, a thousand at a time."""
    cache.require()
    settings = plan.settings
    items = select_items(
        cache,
        report,
        model=settings.deployment,
        prompt_version=plan.prompt_version,
        max_attempts=settings.max_attempts,
        counter=plan.counter,
        backend=plan.backend,
        max_transcript_tokens=settings.max_transcript_tokens,
        only=filters,
        progress=progress,
    )
    return items if limit is None else islice(items, limit)


def selected_again(
    cache: QdrantCache, plan: TaggingPlan, manifest: Path, *, changed: Callable[[], None] | None = None
) -> Iterator[CacheItem]:
    """The items a selection listed in ``manifest``, their transcripts read again from the cache; an item changed
    since it was selected waits for the next selection, and ``changed`` hears of it."""
    return read_manifest(
        cache,
        manifest,
        counter=plan.counter,
        max_transcript_tokens=plan.settings.max_transcript_tokens,
        changed=changed,
    )


def with_library_tags(cache: QdrantCache, plan: TaggingPlan) -> TaggingPlan:
    """The plan with the library's most used tags (TAGGING_VOCABULARY_SIZE of them) for its requests to reuse,
    under TAGGING_VOCABULARY=prefer; the plan as it is otherwise. Listed alphabetically, so the block stays the
    same prefix while the set of tags does."""
    settings = plan.settings
    if settings.vocabulary != "prefer":
        return plan
    frequencies, _ = tag_frequencies(cache)
    most_used = [tag for tag, _ in frequencies.most_common(settings.vocabulary_size)]
    return plan.with_preferred_tags(tuple(sorted(most_used)))


def write_requests(items: Iterable[CacheItem], output: Path, *, plan: TaggingPlan) -> list[Shard]:
    """One request line per item in ``output`` (and ``.partN`` files past a batch's limits), each with its index
    for write-back. With nothing to tag, ``output`` and its index are written empty, so that submitting them says
    so. A mode the model cannot run in is refused first."""
    plan.check_mode()
    with collector_paused():
        shards = write_shards(
            items,
            output,
            options=plan.request_options,
            endpoint=plan.settings.endpoint,
            system_prompt=plan.request_prompt,
            prompt_version=plan.prompt_version,
            counter=plan.counter,
            limits=plan.shard_limits,
        )
    if not shards:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"")
        index_path_for(output).write_bytes(b"")
    return shards


def audited(request_file: Shard | Path) -> Shard:
    """A request file checked line by line before anything of it is uploaded; a path is read as ``prepare`` wrote
    it once its lines pass."""
    path = request_file.path if isinstance(request_file, Shard) else request_file
    if not path.is_file():
        raise InputError(f"no input file at {path}")
    audit = audit_input_files([path])
    if audit.requests == 0:
        raise InputError(f"{path} holds no requests: nothing to submit")
    if audit.problems:
        raise InputError(f"{path} is not a valid batch input: {'; '.join(audit.problems[:3])}")
    return request_file if isinstance(request_file, Shard) else load_shard(path)


def submit(
    request_files: Sequence[Shard | Path],
    *,
    plan: TaggingPlan,
    api: Jobs,
    records: RecordStore,
    cache: QdrantCache,
    submission_id: str | None = None,
    warn: Callable[[str], None],
    defer_over_budget: bool = True,
    submitted: Callable[[SubmittedBatch], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Submission:
    """Make one job per request file, or find the one already made from the same bytes, and mark its items
    pending; a realtime or flex job's requests then run here, and ``progress`` hears of their answers.

    Every file is audited, and the whole submission priced against the cap at its mode's prices, before anything
    is uploaded or sent; each new job is priced against the cap again. A file that would queue more tokens than
    the budget leaves beside the batches in flight waits (``warn`` hears why) in ``deferred``, or, without
    ``defer_over_budget``, is a ``TokenBudgetError``. ``submitted`` hears of each job as soon as it exists, so a
    later failure cannot lose it.
    """
    shards = [audited(request_file) for request_file in request_files]
    requests = sum(shard.requests for shard in shards)
    mode = plan.mode_for(requests)
    plan.enforce_cap(
        plan.expected_cost(sum(shard.input_tokens for shard in shards), requests, mode=mode),
        f"this submission ({requests:,} requests)",
        mode=mode,
    )
    settings = plan.settings
    options = SubmitOptions(
        collection=cache.collection,
        backend=plan.backend,
        enqueued_token_limit=settings.enqueued_token_limit,
        file_ttl_seconds=settings.file_ttl_seconds,
        warn=warn,
    )
    submission_id = submission_id or str(uuid.uuid4())
    batches: list[SubmittedBatch] = []
    deferred: list[Shard] = []
    for shard in shards:
        try:
            record = api.submit(
                shard,
                mode=mode,
                records=records,
                options=options,
                submission_id=submission_id,
                check=partial(plan.enforce_cap_on, mode=mode),
            )
        except TokenBudgetError as waiting:
            if not defer_over_budget:
                raise
            warn(str(waiting))
            deferred.append(shard)
            continue
        mark_pending(cache, record, read_index(shard.index_path))
        batch = SubmittedBatch(batch_id=record.batch_id, requests=shard.requests, input_file=shard.path, mode=mode)
        if submitted is not None:
            submitted(batch)
        batches.append(batch)
        api.run(record, progress=progress)
    return Submission(submission_id=submission_id, batches=tuple(batches), deferred=tuple(deferred), mode=mode)


def write_back(
    cache: QdrantCache,
    plan: TaggingPlan,
    *,
    record: BatchRecord,
    batch: BatchStatus,
    files: DownloadedFiles,
    progress: Callable[[int], None] | None = None,
) -> WritebackSummary:
    """Write each request's outcome into the cache: tags and summary, or the failure and its reason. Every
    submitted custom_id ends tagged or failed; ids in neither file are failed as missing. ``progress`` hears of
    the points written, a batched write at a time. A batch still running has no final outcomes to write."""
    if not batch.finished:
        raise BatchError(f"batch {batch.batch_id} is still {batch.status}; process it once it has finished")
    paths = [path for path in (files.output, files.errors) if path is not None]
    index = read_index(Path(record.index_file))
    profile = plan.profile_of(record.model)
    allowed = frozenset(plan.closed_vocabulary) or None
    return write_results(
        cache, record, batch, index, paths, profile, progress, mode=record.mode, aliases=plan.aliases, allowed=allowed
    )
