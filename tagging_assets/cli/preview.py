"""``tagging-assets tag --preview``: a sample's new tags beside its current ones, and what they cost, with
nothing written to the cache.

A preview is how a user tries a prompt, a model or a vocabulary before paying for all of them. Its requests run as
a realtime job (answers now) whose record, requests and answers live in ``{work_dir}/preview/``: the work
directory's records, the sensor and ``tag``'s resumption of interrupted jobs never look there, and no item is
marked pending, so nothing a preview does changes what the next selection picks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import click

from tagging_assets.batches import steps
from tagging_assets.batches.jobs import jobs_of
from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.batches.providers import SubmitOptions
from tagging_assets.batches.records import RecordStore
from tagging_assets.batches.writeback import tag_writer
from tagging_assets.cli.backend import batch_client
from tagging_assets.cli.output import clear_errors, note, print_json, progress_bar, usd, warning
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import NO_USAGE, Cost, SelectionReport, TokenUsage
from tagging_assets.core.results import ParseProblem, read_outcomes
from tagging_assets.core.selection import CacheItem, Filters, parse_where, select_items
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import read_index

PREVIEW_FOLDER = "preview"
"""The work directory's folder for previews' jobs and files."""
ANY_OTHER_PROMPT = "preview-any-other-prompt"
"""A prompt version no item is tagged under: selecting with it samples the items a new prompt would tag again."""


@dataclass(frozen=True)
class PreviewRow:
    """One video of the sample: its tags in the cache, and the tags the previewed request gave (or why not)."""

    custom_id: str
    current_tags: tuple[str, ...]
    new_tags: tuple[str, ...]
    error: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "custom_id": self.custom_id,
            "current_tags": list(self.current_tags),
            "new_tags": list(self.new_tags),
            "error": self.error,
        }


def run_preview(settings: TaggingSettings, *, limit: int | None, where: tuple[str, ...], as_json: bool) -> None:
    """Sample, run the sample realtime in the preview folder, and print current → new tags and the cost."""
    preview_settings = settings.model_copy(update={"work_dir": settings.work_dir / PREVIEW_FOLDER, "mode": "realtime"})
    with clear_errors():
        plan = TaggingPlan.from_settings(preview_settings)
    records = RecordStore(preview_settings.work_dir)
    with clear_errors(), batch_client(settings, note) as client, QdrantCache.from_settings(settings) as cache:
        filters = parse_where(where) or None
        report = SelectionReport()
        items = list(steps.select(cache, plan, report=report, filters=filters, limit=limit))
        resampled = not items
        if resampled:
            items = list(_already_tagged(cache, plan, filters=filters, limit=limit))
        if not items:
            click.echo(f"Scanned {report.scanned} points; none to preview.")
            return
        output = preview_settings.work_dir / time.strftime("%Y%m%dT%H%M%S") / "requests.jsonl"
        shards = steps.write_requests(items, output, plan=steps.with_library_tags(cache, plan))
        requests = sum(shard.requests for shard in shards)
        plan.enforce_cap(
            plan.expected_cost(sum(shard.input_tokens for shard in shards), requests, mode="realtime"),
            f"this preview ({requests:,} requests)",
            mode="realtime",
        )
        api = jobs_of(client, preview_settings)
        options = SubmitOptions(
            collection=cache.collection,
            backend=plan.backend,
            file_ttl_seconds=settings.file_ttl_seconds,
            warn=warning,
        )
        as_written = tag_writer(cache, aliases=plan.aliases, allowed=frozenset(plan.closed_vocabulary) or None)
        rows: list[PreviewRow] = []
        usage = NO_USAGE
        with progress_bar(requests, f"Previewing {requests} items") as bar:
            for shard in shards:
                record = api.submit(shard, mode="realtime", records=records, options=options)
                api.run(record, progress=bar.update)
                results = preview_settings.work_dir / "results" / record.batch_id / "output.jsonl"
                files = api.download(api.status(record.batch_id), results)
                index = read_index(shard.index_path)
                current = cache.points_by_id([entry.point_id for entry in index.values()])
                answers = {}
                problems: list[ParseProblem] = []
                for path in (files.output, files.errors):
                    for outcome in read_outcomes(path, problems) if path is not None else ():
                        answers[outcome.custom_id] = outcome
                        usage = usage + outcome.usage
                for custom_id, entry in index.items():
                    point = current.get(entry.point_id)
                    answer = answers.get(custom_id)
                    rows.append(
                        PreviewRow(
                            custom_id=custom_id,
                            current_tags=point.tags if point is not None else (),
                            new_tags=as_written(answer.output.tags).tags if answer and answer.output else (),
                            error=(answer.error if answer else "no answer") if not (answer and answer.ok) else None,
                        )
                    )
    cost = plan.cost_of(usage, mode="realtime")
    _print_preview(rows, usage, cost, resampled=resampled, as_json=as_json, unknown_price=plan.unknown_price)


def _already_tagged(
    cache: QdrantCache, plan: TaggingPlan, *, filters: Filters, limit: int | None
) -> Iterator[CacheItem]:
    """When nothing needs tags, the items a new prompt would tag again: already tagged, so a user can compare."""
    settings = plan.settings
    items = select_items(
        cache,
        SelectionReport(),
        model=settings.deployment,
        prompt_version=ANY_OTHER_PROMPT,
        max_attempts=settings.max_attempts,
        counter=plan.counter,
        backend=plan.backend,
        max_transcript_tokens=settings.max_transcript_tokens,
        only=filters,
    )
    for count, item in enumerate(items, start=1):
        yield item
        if limit is not None and count >= limit:
            return


def _print_preview(
    rows: list[PreviewRow],
    usage: TokenUsage,
    cost: Cost | None,
    *,
    resampled: bool,
    as_json: bool,
    unknown_price: str,
) -> None:
    if as_json:
        print_json(
            {
                "preview": [row.to_json() for row in rows],
                "resampled_tagged_items": resampled,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_realtime_usd": round(cost.realtime_usd, 6) if cost else None,
                "cost_batch_usd": round(cost.batch_usd, 6) if cost else None,
            }
        )
        return
    if resampled:
        click.echo("Nothing needs tags; previewing items already tagged, to compare.")
    for row in rows:
        current = ", ".join(row.current_tags) or "(none)"
        new = ", ".join(row.new_tags) if row.error is None else f"failed: {row.error}"
        click.echo(f"{row.custom_id}\n  now:  {current}\n  new:  {new}")
    tokens = f"{usage.input_tokens + usage.output_tokens:,} tokens"
    price = (
        f"cost unknown: {unknown_price}"
        if cost is None
        else f"{usd(cost.realtime_usd)} at realtime prices ({usd(cost.batch_usd)} with the Batch API)"
    )
    click.echo(f"\nPreviewed {len(rows)} items in a realtime job: {tokens}, {price}. Nothing was written to the cache.")
