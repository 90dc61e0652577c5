"""``tagging-assets tag``: select, run and write back in one command, the way to try a prompt on a few videos
before a batch of all of them."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import click

from tagging_assets.cli.output import (
    advance,
    clear_errors,
    note,
    priced_per_mode,
    print_json,
    progress_bar,
    warning,
)
from tagging_assets.core.contracts import SelectionReport, WritebackSummary
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.settings_groups import MODES

if TYPE_CHECKING:
    from tagging_assets.batches.records import BatchRecord

POLL_SECONDS = 2.0
"""How often a batch's status is read while ``tag`` waits for it."""


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="At most this many of the selected items.")
@click.option(
    "--where", "where", multiple=True, metavar="FIELD=VALUE", help="Only points whose payload FIELD is VALUE."
)
@click.option("--mode", type=click.Choice(MODES), help="How the requests run [default: TAGGING_MODE].")
@click.option("--json", "as_json", is_flag=True, help="Print each job's outcome as JSON.")
@click.option(
    "--preview",
    is_flag=True,
    help="Run a sample as a realtime job (whatever TAGGING_MODE says: a preview wants answers now) and print each "
    "video's new tags beside its current ones, with the cost; nothing is written to the cache.",
)
def tag(limit: int | None, where: tuple[str, ...], mode: str | None, as_json: bool, preview: bool) -> None:
    """Tag what needs tags in one go: select, run, write back, and print the tags and the cost.

    `tag --limit 5 --mode realtime` tags five videos in seconds: the lesson's first
    step, to check the tags before running everything. In batch mode it waits for the
    batch (up to 24 hours at a real API) with a progress bar. A realtime or flex job
    that was interrupted (killed, or stopped by a spent quota) is finished first, its
    answered requests not sent again, and nothing new is selected in that run.

    `tag --limit 5 --preview` tries a prompt (TAGGING_PROMPT_FILE), a model or a
    vocabulary: it samples what `tag` would select (or, when nothing needs tags,
    items already tagged, to compare) and prints each video's current tags → new
    tags and the cost. It marks nothing pending and writes nothing to the cache; its
    job and files live in the work directory's `preview` folder.
    """
    if preview:
        if mode not in (None, "realtime"):
            raise click.UsageError(f"--preview runs realtime, not --mode {mode}")
        from tagging_assets.cli.preview import run_preview

        with clear_errors():
            settings = TaggingSettings.from_env({**os.environ, "TAGGING_MODE": "realtime"})
        run_preview(settings, limit=limit, where=where, as_json=as_json)
        return
    from tagging_assets.batches import steps
    from tagging_assets.batches.jobs import jobs_of
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.providers import status_naming_its_api
    from tagging_assets.batches.records import RecordStore
    from tagging_assets.cli.backend import batch_client
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.protocol import TERMINAL_STATUSES
    from tagging_assets.core.selection import parse_where

    with clear_errors():
        settings = TaggingSettings.from_env({**os.environ, **({"TAGGING_MODE": mode} if mode else {})})
        plan = TaggingPlan.from_settings(settings)
    records = RecordStore(settings.work_dir)
    with clear_errors(), batch_client(settings, note) as client, QdrantCache.from_settings(settings) as cache:
        api = jobs_of(client, settings)

        def finish(job: BatchRecord) -> tuple[str, WritebackSummary]:
            """Wait for the job (a batch) or run what is left of it (a realtime or flex job), then write it back."""
            with progress_bar(job.requests, f"{job.mode.capitalize()} job {job.batch_id}") as bar:
                api.run(job, progress=bar.update)
                state = status_naming_its_api(api, records, job.batch_id)
                while state.status not in TERMINAL_STATUSES:
                    advance(bar, state, f"Batch {job.batch_id}")
                    time.sleep(POLL_SECONDS)
                    state = status_naming_its_api(api, records, job.batch_id)
                advance(bar, state, f"{job.mode.capitalize()} job {job.batch_id}")
            files = api.download(state, settings.work_dir / "results" / job.batch_id / "output.jsonl")
            return job.mode, steps.write_back(cache, plan, record=job, batch=state, files=files)

        summaries = [finish(records.load(job_id)) for job_id in api.realtime.unfinished()]
        report = SelectionReport()
        if not summaries:
            output = settings.work_dir / "tag" / f"{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
            items = steps.select(cache, plan, report=report, filters=parse_where(where) or None, limit=limit)
            shards = steps.write_requests(items, output, plan=steps.with_library_tags(cache, plan))
            requests = sum(shard.requests for shard in shards)
            if requests:
                with progress_bar(requests, f"Tagging {requests} items") as bar:
                    submission = steps.submit(
                        shards,
                        plan=plan,
                        api=api,
                        records=records,
                        cache=cache,
                        warn=warning,
                        defer_over_budget=False,
                        progress=bar.update,
                    )
                summaries = [finish(records.load(job.batch_id)) for job in submission.batches]
    if as_json:
        print_json([summary.to_json() | {"mode": mode} for mode, summary in summaries])
        return
    if not summaries:
        click.echo(f"Scanned {report.scanned} points; none needs tags.")
        return
    _print_outcome(summaries, plan.unknown_price)


def _print_outcome(outcomes: list[tuple[str, WritebackSummary]], unknown_price: str) -> None:
    """Each item's tags, then the jobs' cost at the prices each was billed at, and what the other modes would
    have cost."""
    summaries = [summary for _, summary in outcomes]
    for summary in summaries:
        for row in summary.sample:
            click.echo(f"{row.custom_id:36} {', '.join(row.tags)}")
        for reason, count in summary.failed_by_reason.items():
            click.echo(f"  failed {count}: {reason}")
    tagged = sum(summary.tagged for summary in summaries)
    shown = sum(len(summary.sample) for summary in summaries)
    if tagged > shown:
        click.echo(f"  … and {tagged - shown} more (`tagging-assets tags` lists them all)")
    modes = sorted({mode for mode, _ in outcomes})
    tokens = sum(summary.input_tokens + summary.output_tokens for summary in summaries)
    price = priced_per_mode(summaries, modes)
    if price.startswith("at an unknown price"):
        price = f"cost unknown: {unknown_price}"
    click.echo(f"\n{tagged} tagged in {len(outcomes)} {' and '.join(modes)} job(s): {tokens:,} tokens, {price}.")
