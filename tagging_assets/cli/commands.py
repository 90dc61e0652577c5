"""The ``tagging-assets`` command line: the lesson's four scripts as subcommands, and a few more."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tagging_assets.cli.gateway import gateway
from tagging_assets.cli.library import search, seed_cache_command, tags
from tagging_assets.cli.output import (
    advance,
    clear_errors,
    duration,
    note,
    priced_per_mode,
    print_json,
    progress_bar,
    settings_from_env,
    usd,
    warning,
)
from tagging_assets.cli.tag import tag
from tagging_assets.core.contracts import PointId, SelectionReport, Shard
from tagging_assets.core.protocol import COMPLETION_WINDOW, TERMINAL_STATUSES
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.settings_reference import environment_help

# The SDKs, Qdrant and the workflow are imported by the commands that use them, so that `--help` and a
# command's usage errors answer at once (under half a second) instead of after loading them all.

if TYPE_CHECKING:
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.core.selection import CacheItem

_ENVIRONMENT_HELP = environment_help(TaggingSettings, "Environment (docs/configuration.md):")


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_ENVIRONMENT_HELP)
def main() -> None:
    """Tag a Qdrant cache of video transcripts with batch jobs at OpenAI, Azure OpenAI or Anthropic."""


main.add_command(seed_cache_command)
main.add_command(gateway)
main.add_command(tags)
main.add_command(search)
main.add_command(tag)


@main.command()
@click.option("--collection", help="The collection to read [default: TAGGING_COLLECTION].")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The JSONL to write.")
@click.option(
    "--where", "where", multiple=True, metavar="FIELD=VALUE", help="Only points whose payload FIELD is VALUE."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many of the selected items.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def prepare(collection: str | None, output: Path, where: tuple[str, ...], limit: int | None, as_json: bool) -> None:
    """Write Batch API requests for every transcript that needs tags.

    Selected: items never tagged, changed since (content hash), tagged with another
    prompt version or model (TAGGING_MODEL), tagged offline by the local gateway
    when a real API is configured, or failed within TAGGING_MAX_ATTEMPTS;
    --where (repeatable) keeps only points whose payload field has that value, and
    --limit N the first N selected: try a prompt on five videos first. Past 50,000
    requests or 200 MB, or TAGGING_ENQUEUED_TOKEN_LIMIT, the rest goes to
    OUTPUT.part2.jsonl and on. Transcripts over TAGGING_MAX_TRANSCRIPT_TOKENS are
    trimmed. Prints the request options the model's family takes (TAGGING_ENDPOINT,
    TAGGING_REASONING_EFFORT), the input tokens (exact when tiktoken's encoding is in
    TIKTOKEN_CACHE_DIR) and the expected cost (TAGGING_PRICING_FILE updates prices),
    and how many items a new prompt (TAGGING_PROMPT_FILE) selects again at what cost.
    Warns when the API lists the model with a shutdown date; refuses when that date
    falls inside a batch's 24 hours.
    """
    from tagging_assets.batches import steps
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.providers import batch_api_of
    from tagging_assets.cli.backend import client_if_answering
    from tagging_assets.core.cache import QdrantCache
    from tagging_assets.core.selection import parse_where

    settings = settings_from_env()
    report = SelectionReport()
    reprompted: dict[PointId, str] = {}
    with clear_errors():
        plan = TaggingPlan.from_settings(settings)
        plan.check_mode()
    with clear_errors(), QdrantCache.from_settings(settings, collection) as cache:
        filters = parse_where(where)
        cache.require()
        plan = steps.with_library_tags(cache, plan)
        options = plan.request_options
        client = client_if_answering(settings)
        if client is not None:
            api = batch_api_of(client, settings.batch_provider)
            if announced := api.model_warning(settings.model, now=time.time()):
                warning(announced)
        with progress_bar(cache.count(), "Scanning the cache") as bar:
            items = steps.select(cache, plan, report=report, filters=filters or None, limit=limit, progress=bar.update)
            shards = steps.write_requests(_noting_prompt_changes(items, reprompted), output, plan=plan)
            bar.update(report.scanned - bar.pos)
        prompt_change = _prompt_change(shards, reprompted, plan)
        requests = sum(shard.requests for shard in shards)
        tokens = sum(shard.input_tokens for shard in shards)
        mode = plan.mode_for(requests)
        cost = plan.expected_cost(tokens, requests, mode=mode)
    largest = max((shard.largest_request_tokens for shard in shards), default=0)
    if as_json:
        print_json(
            {
                **report.model_dump(),
                "requests": requests,
                "files": [shard.to_json() for shard in shards],
                "input_tokens": tokens,
                "token_count": plan.counter.method,
                "largest_request_tokens": largest,
                "request_options": asdict(options),
                "endpoint": settings.endpoint,
                "mode": mode,
                "expected_cost_usd": round(cost.billed_usd, 6) if cost else None,
                "expected_cost_batch_usd": round(cost.batch_usd, 6) if cost else None,
                "expected_cost_realtime_usd": round(cost.realtime_usd, 6) if cost else None,
                "expected_cost_flex_usd": round(cost.flex_usd, 6) if cost and cost.flex_usd is not None else None,
                **({} if cost else {"price": plan.unknown_price}),
                "selected_again_for_prompt": prompt_change.to_json() if prompt_change else None,
            }
        )
        return
    click.echo(f"Scanned {report.scanned} points; {requests} need tags.")
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"  skipped {count}: {reason}")
    if prompt_change is not None:
        click.echo(f"  {prompt_change.line()}")
    if report.truncated:
        click.echo(f"  trimmed {report.truncated} over {settings.max_transcript_tokens:,} tokens (marked truncated)")
    for shard in shards:
        click.echo(f"Wrote {shard.requests} requests to {shard.path} ({shard.bytes / 1e6:.2f} MB)")
    if requests:
        effort = f", reasoning effort {options.reasoning_effort}" if options.reasoning_effort else ""
        click.echo(
            f"Requests for {options.model} at {settings.endpoint}{effort}, "
            f"up to {options.max_output_tokens:,} output tokens each."
        )
        click.echo(f"{tokens:,} input tokens, {plan.counter.method}; the largest request {largest:,}.")
        if plan.preferred_tags:
            cached = plan.cached_prefix_tokens
            click.echo(
                f"The prompt names {len(plan.preferred_tags)} of the library's tags (TAGGING_VOCABULARY=prefer)"
                + (f"; its first {cached:,} tokens count as cached after the first request." if cached else ".")
            )
        expected = plan.expected_output_tokens(1)
        if cost is None:
            click.echo(f"Expected cost: unknown: {plan.unknown_price}.")
        elif mode == "batch":
            click.echo(
                f"Expected cost: {usd(cost.batch_usd)} with the Batch API ({usd(cost.realtime_usd)} realtime"
                f"{'' if cost.flex_usd is None else f', {usd(cost.flex_usd)} flex'}), "
                f"counting ~{expected} output tokens a reply."
            )
        else:
            click.echo(
                f"Expected cost: {usd(cost.billed_usd)} at {mode} prices (TAGGING_MODE={settings.mode}; "
                f"{usd(cost.batch_usd)} with the Batch API), counting ~{expected} output tokens a reply."
            )


@dataclass(frozen=True)
class PromptChange:
    """The items a new prompt selects again, and what tagging them anew costs at batch prices: the price of a
    prompt change, said before anything is submitted."""

    items: int
    previous_versions: dict[str, int]
    prompt_version: str
    input_tokens: int
    batch_usd: float | None

    def line(self) -> str:
        previous = ", ".join(sorted(self.previous_versions))
        price = "at an unknown price" if self.batch_usd is None else f"~{usd(self.batch_usd)} at batch prices"
        return f"{self.items} selected again for a new prompt ({previous} → {self.prompt_version}): {price}"

    def to_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "previous_prompt_versions": self.previous_versions,
            "prompt_version": self.prompt_version,
            "input_tokens": self.input_tokens,
            "expected_cost_batch_usd": None if self.batch_usd is None else round(self.batch_usd, 6),
        }


def _noting_prompt_changes(items: Iterable[CacheItem], reprompted: dict[PointId, str]) -> Iterator[CacheItem]:
    """The items as they stream to the request files, each selected for a new prompt noted with its old version."""
    for item in items:
        if item.previous_prompt_version is not None:
            reprompted[item.point_id] = item.previous_prompt_version
        yield item


def _prompt_change(shards: list[Shard], reprompted: dict[PointId, str], plan: TaggingPlan) -> PromptChange | None:
    """What the items selected for a new prompt cost, from their requests' token counts in the shards' indexes."""
    from tagging_assets.core.shards import read_index

    if not reprompted:
        return None
    tokens = sum(
        entry.input_tokens
        for shard in shards
        for entry in read_index(shard.index_path).values()
        if entry.point_id in reprompted
    )
    previous: dict[str, int] = {}
    for version in reprompted.values():
        previous[version] = previous.get(version, 0) + 1
    cost = plan.expected_cost(tokens, len(reprompted), mode="batch")
    return PromptChange(len(reprompted), previous, plan.prompt_version, tokens, cost.batch_usd if cost else None)


@main.command()
@click.option("--input", "input_file", required=True, type=click.Path(path_type=Path), help="A file from `prepare`.")
@click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
def submit(input_file: Path, as_json: bool) -> None:
    """Upload a prepared file and create its batch, then mark its items pending.

    With TAGGING_MODE realtime or flex (or auto below TAGGING_REALTIME_BELOW items) the
    requests run now instead, as a job with its own id; killed, it resumes where it
    stopped when the file is submitted again. Submitting the same file again finds the
    same batch or job instead of paying twice.
    Refused before anything is uploaded when the file is invalid, when it would cost
    more than TAGGING_MAX_COST_USD, or when it would queue more than
    TAGGING_ENQUEUED_TOKEN_LIMIT tokens beside the batches in flight.
    """
    from tagging_assets.batches import steps
    from tagging_assets.batches.jobs import jobs_of
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.providers import status_naming_its_api
    from tagging_assets.batches.records import RecordStore
    from tagging_assets.cli.backend import batch_client
    from tagging_assets.core.cache import QdrantCache

    settings = settings_from_env()
    records = RecordStore(settings.work_dir)
    with clear_errors(), batch_client(settings, note) as client, QdrantCache.from_settings(settings) as cache:
        api = jobs_of(client, settings)
        submission = steps.submit(
            [input_file],
            plan=TaggingPlan.from_settings(settings),
            api=api,
            records=records,
            cache=cache,
            warn=warning,
            defer_over_budget=False,
        )
        batch_id = submission.batches[0].batch_id
        status = status_naming_its_api(api, records, batch_id)
        record = records.load(batch_id)
    if as_json:
        print_json(
            status.to_json() | {"input_file_id": record.input_file_id or None, "completion_window": COMPLETION_WINDOW}
        )
        return
    if record.mode != "batch":
        click.echo(
            f"Job {batch_id}: {status.status}, {record.requests} {record.mode} requests, {status.completed} answered, "
            f"{status.failed} failed"
        )
        return
    sent = f"input file {record.input_file_id}" if record.input_file_id else "requests sent inline"
    click.echo(
        f"Batch {batch_id}: {status.status}, {record.requests} requests ({sent}), completion window {COMPLETION_WINDOW}"
    )


@main.command()
@click.option("--batch-id", required=True, help="The batch to look at.")
@click.option("--watch", is_flag=True, help="Poll until the batch has finished, with a progress bar.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls with --watch.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (with --watch, once finished).")
def status(batch_id: str, watch: bool, interval: float, as_json: bool) -> None:
    """Show a batch's (or a realtime or flex job's) status and progress: requests done of the total, failures,
    errors."""
    from tagging_assets.batches.jobs import jobs_of
    from tagging_assets.batches.providers import status_naming_its_api
    from tagging_assets.batches.records import RecordStore
    from tagging_assets.cli.backend import batch_client

    settings = settings_from_env()
    records = RecordStore(settings.work_dir)
    with clear_errors(), batch_client(settings, note) as client:
        api = jobs_of(client, settings)
        state = status_naming_its_api(api, records, batch_id)
        mode = state.metadata.get("mode", "batch")
        label = f"Batch {batch_id}" if mode == "batch" else f"{mode.capitalize()} job {batch_id}"
        if watch and state.status not in TERMINAL_STATUSES:
            with progress_bar(state.total, label) as bar:
                while state.status not in TERMINAL_STATUSES:
                    advance(bar, state, label)
                    time.sleep(interval)
                    state = status_naming_its_api(api, records, batch_id)
                advance(bar, state, label)
    left = state.seconds_left(time.time())
    if as_json:
        print_json({**state.to_json(), "estimated_seconds_left": None if left is None else round(left)})
        return
    click.echo(f"{label}: {state.status} {state.done}/{state.total} ({state.progress_pct}%), {state.failed} failed")
    if stopped := state.metadata.get("stopped"):
        click.echo(f"  stopped: {stopped}")
    if left is not None:
        click.echo(f"Estimated time remaining: {duration(left)}")
    for error in state.errors:
        click.echo(f"  {error.code}: {error.message}" + (f" (line {error.line})" if error.line else ""))


@main.command()
@click.option("--batch-id", required=True, help="A finished batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def process(batch_id: str, as_json: bool) -> None:
    """Download a finished batch's results and write tags and summaries into the cache.

    Every request ends tagged or failed with its reason; failures are picked up by the
    next prepare while within TAGGING_MAX_ATTEMPTS. Prints the actual cost from the
    batch's usage and the saving against realtime. Safe to run again.
    """
    from tagging_assets.batches import steps
    from tagging_assets.batches.jobs import jobs_of
    from tagging_assets.batches.plan import TaggingPlan
    from tagging_assets.batches.providers import status_naming_its_api
    from tagging_assets.batches.records import RecordStore
    from tagging_assets.cli.backend import batch_client
    from tagging_assets.core.cache import QdrantCache

    settings = settings_from_env()
    records = RecordStore(settings.work_dir)
    with clear_errors(), batch_client(settings, note) as client, QdrantCache.from_settings(settings) as cache:
        plan = TaggingPlan.from_settings(settings)
        api = jobs_of(client, settings)
        record = records.load(batch_id)
        batch = status_naming_its_api(api, records, batch_id)
        files = api.download(batch, settings.work_dir / "results" / batch_id / "output.jsonl")
        with progress_bar(record.requests, "Writing to the cache") as bar:
            summary = steps.write_back(cache, plan, record=record, batch=batch, files=files, progress=bar.update)
    if as_json:
        print_json(summary.to_json())
        return
    click.echo(f"Batch {batch_id} ({summary.status}): {summary.tagged} tagged, {summary.failed} failed.")
    for reason, count in summary.failed_by_reason.items():
        click.echo(f"  failed {count}: {reason}")
    tokens = (
        f"{summary.input_tokens:,} input ({summary.cached_input_tokens:,} cached) + {summary.output_tokens:,} output "
        f"({summary.reasoning_tokens:,} reasoning) tokens"
    )
    cost = summary.cost
    if cost is None:
        click.echo(f"{tokens}: cost unknown: {plan.unknown_price}.")
    elif cost.mode != "batch":
        click.echo(f"{tokens}: {priced_per_mode([summary], [cost.mode])}.")
    else:
        click.echo(
            f"{tokens}: {usd(cost.batch_usd)} with the Batch API, {usd(cost.realtime_usd)} realtime"
            f"{'' if cost.flex_usd is None else f', {usd(cost.flex_usd)} flex'} (saved {usd(cost.saving_usd)})."
        )
    for row in summary.sample:
        click.echo(f"  {row.custom_id}: {', '.join(row.tags)}")


@main.command()
def demo() -> None:
    """Run the Dagster pipeline end to end: seed if empty, submit, watch with the sensor, write back, report."""
    from tagging_assets.cli.demo import print_report, run_demo

    settings = settings_from_env()
    with clear_errors():
        report = run_demo(settings, click.echo)
    print_report(report, click.echo, usd)
