"""The ``tagging-assets`` command line."""

from __future__ import annotations

import json
import sys
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import click
import openai
from openai import OpenAI
from pydantic import ValidationError

from tagging_assets.batches.processor import TERMINAL_STATUSES, BatchError, BatchProcessor
from tagging_assets.cli.backend import BackendError, batch_client
from tagging_assets.core.cache import CacheError, QdrantCache
from tagging_assets.core.cost import EXPECTED_OUTPUT_TOKENS, CostCapError, PricingError, cost_of
from tagging_assets.core.report import tag_frequencies, videos_with_tag
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.shards import SelectionReport
from tagging_assets.gateway.settings import ENV_PREFIX, FaultSettings, GatewayConfigError, GatewaySettings
from tagging_assets.seed.samples import load_samples
from tagging_assets.seed.seeding import SourceError, read_transcripts_jsonl, seed_cache

_GATEWAY_FLAG_FIELDS = {
    name: info
    for name, info in {**GatewaySettings.model_fields, **FaultSettings.model_fields}.items()
    if name not in ("state_dir", "api_key", "faults")
}


def _settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One flag per gateway setting and fault, generated from the settings models
    so the flags, the environment variables and the models never drift apart."""
    for name, info in reversed(_GATEWAY_FLAG_FIELDS.items()):
        annotation = info.annotation
        choices = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else None
        if choices:
            kind: Any = click.Choice(choices)
        else:
            kind = next((arg for arg in typing.get_args(annotation) if arg is not type(None)), annotation)
        flag = "--" + name.replace("_", "-")
        help_text = f"{info.description} [env {ENV_PREFIX}{name.upper()}]"
        command = click.option(flag, name, type=kind, default=None, help=help_text)(command)
    return command


_ENVIRONMENT_HELP = """
\b
Environment (README: Configuration):
  OPENAI_API_KEY, OPENAI_BASE_URL  the batch backend (neither set: the local gateway)
  TAGGING_GATEWAY_URL              where the local gateway listens (http://127.0.0.1:8787/v1)
  QDRANT_URL, QDRANT_API_KEY       a Qdrant server or Qdrant Cloud
  QDRANT_PATH                      the embedded store when QDRANT_URL is unset (.qdrant)
  TAGGING_COLLECTION               the collection (nate_content)
  TAGGING_MODEL                    the model (gpt-4o-mini)
  TAGGING_WORK_DIR                 request files, results and batch records (.tagging)
  TAGGING_MAX_ATTEMPTS             attempts per item before it is given up on (3)
  TAGGING_MAX_TRANSCRIPT_TOKENS    longer transcripts are trimmed, head and tail (32000)
  TAGGING_MAX_COST_USD             refuse to submit work expected to cost more (unset)
  TAGGING_ENQUEUED_TOKEN_LIMIT     the model's queued-token budget (unset)
  TAGGING_PRICING_FILE             JSON prices by model, over the built-in table (unset)
  TIKTOKEN_CACHE_DIR               tiktoken's encodings; with the model's there, exact token counts
  DAGSTER_HOME                     the Dagster instance the demo records runs in (.dagster_home)
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_ENVIRONMENT_HELP)
def main() -> None:
    """Tag a Qdrant cache of video transcripts with OpenAI Batch API jobs."""


def _settings() -> TaggingSettings:
    try:
        return TaggingSettings.from_env()
    except ValidationError as error:
        _fail(f"invalid configuration: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}")


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Turn the failures a user can fix into one line and a non-zero exit, never a traceback."""
    try:
        yield
    except (CacheError, BatchError, BackendError, SourceError, CostCapError, PricingError) as error:
        _fail(str(error))
    except openai.NotFoundError as error:
        _fail(f"not found at the Batch API: {_api_message(error)}")
    except openai.AuthenticationError:
        _fail("the Batch API rejected the API key (check OPENAI_API_KEY)")
    except openai.APIConnectionError:
        _fail("cannot reach the Batch API (check OPENAI_BASE_URL, or start `tagging-assets gateway`)")
    except openai.APIStatusError as error:
        _fail(f"the Batch API answered {error.status_code}: {_api_message(error)}")


def _api_message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("message") or error.message)


def _bar(total: int, label: str) -> Any:
    """A progress bar on stderr, so stdout stays the result (and valid JSON with --json)."""
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True)


def _advance(bar: Any, state: dict[str, Any]) -> None:
    """Move a batch's bar to its requests done; the total is known only once the batch is validated."""
    bar.length = max(state["total"], 1)
    bar.update(state["completed"] + state["failed"] - bar.pos)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _usd(amount: float) -> str:
    return f"${amount:,.6f}" if amount < 1 else f"${amount:,.2f}"


@main.command("seed-cache")
@click.option("--source", type=click.Path(path_type=Path), help="A JSONL file of {video_id, title, transcript, ...}.")
@click.option("--collection", help="The collection to fill [default: TAGGING_COLLECTION].")
def seed_cache_command(source: Path | None, collection: str | None) -> None:
    """Load transcripts into the cache: the bundled samples, or --source. Points already there are untouched."""
    settings = _settings()
    with _clear_errors():
        items = read_transcripts_jsonl(source) if source else load_samples()
        with settings.open_cache(collection) as cache:
            report = seed_cache(cache, items)
            total = cache.count()
    click.echo(
        f"Added {report.added} transcripts to {collection or settings.collection!r} "
        f"({report.already_present} already there, {total} points in all)."
    )


@main.command()
@click.option("--collection", help="The collection to read [default: TAGGING_COLLECTION].")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The JSONL to write.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def prepare(collection: str | None, output: Path, as_json: bool) -> None:
    """Write Batch API requests for every transcript that needs tags.

    Selected: items never tagged, changed since (content hash), tagged with another
    prompt version or model (TAGGING_MODEL), or failed within TAGGING_MAX_ATTEMPTS.
    Past 50,000 requests or 200 MB, or TAGGING_ENQUEUED_TOKEN_LIMIT, the rest goes
    to OUTPUT.part2.jsonl and on. Transcripts over TAGGING_MAX_TRANSCRIPT_TOKENS are
    trimmed. Prints the input tokens (exact when tiktoken's encoding is in
    TIKTOKEN_CACHE_DIR) and the expected cost (TAGGING_PRICING_FILE updates prices).
    """
    settings = _settings()
    report = SelectionReport()
    with _clear_errors(), settings.open_cache(collection) as cache:
        cache.require()
        processor = _processor(settings, cache, None)
        with _bar(cache.count(), "Scanning the cache") as bar:
            shards = processor.prepare_files(output, report=report, progress=bar.update)
            bar.update(report.scanned - bar.pos)
    requests = sum(shard.requests for shard in shards)
    tokens = sum(shard.input_tokens for shard in shards)
    largest = max((shard.largest_request_tokens for shard in shards), default=0)
    cost = cost_of(settings.model, tokens, requests * EXPECTED_OUTPUT_TOKENS)
    if as_json:
        _print_json(
            {
                "scanned": report.scanned,
                "selected": dict(report.selected),
                "skipped": dict(report.skipped),
                "truncated": report.truncated,
                "requests": requests,
                "files": [shard.as_dict() for shard in shards],
                "input_tokens": tokens,
                "token_count": processor.counter.method,
                "largest_request_tokens": largest,
                "expected_cost_batch_usd": round(cost.batch_usd, 6),
                "expected_cost_realtime_usd": round(cost.realtime_usd, 6),
            }
        )
        return
    click.echo(f"Scanned {report.scanned} points; {requests} need tags.")
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"  skipped {count}: {reason}")
    if report.truncated:
        click.echo(f"  trimmed {report.truncated} over {settings.max_transcript_tokens:,} tokens (marked truncated)")
    for shard in shards:
        click.echo(f"Wrote {shard.requests} requests to {shard.path} ({shard.bytes / 1e6:.2f} MB)")
    if requests:
        click.echo(f"{tokens:,} input tokens, {processor.counter.method}; the largest request {largest:,}.")
        click.echo(
            f"Expected cost: {_usd(cost.batch_usd)} with the Batch API ({_usd(cost.realtime_usd)} realtime), "
            f"counting ~{EXPECTED_OUTPUT_TOKENS} output tokens a reply."
        )


@main.command()
@click.option("--input", "input_file", required=True, type=click.Path(path_type=Path), help="A file from `prepare`.")
@click.option("--json", "as_json", is_flag=True, help="Print the batch as JSON.")
def submit(input_file: Path, as_json: bool) -> None:
    """Upload a prepared file and create its batch, then mark its items pending.

    Submitting the same file again finds the same batch instead of paying twice.
    Refused before anything is uploaded when the file is invalid, when it would cost
    more than TAGGING_MAX_COST_USD, or when it would queue more than
    TAGGING_ENQUEUED_TOKEN_LIMIT tokens beside the batches in flight.
    """
    settings = _settings()
    with _clear_errors(), batch_client(settings, _note) as client, settings.open_cache() as cache:
        processor = _processor(settings, cache, client)
        batch_id = processor.submit_batch(input_file)
        status = processor.check_status(batch_id)
    if as_json:
        _print_json(status)
        return
    click.echo(f"Batch {batch_id}: {status['status']}, {status['metadata'].get('requests', '?')} requests")


@main.command()
@click.option("--batch-id", required=True, help="The batch to look at.")
@click.option("--watch", is_flag=True, help="Poll until the batch has finished, with a progress bar.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls with --watch.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (with --watch, once finished).")
def status(batch_id: str, watch: bool, interval: float, as_json: bool) -> None:
    """Show a batch's status and progress: requests done of the total, failures, errors."""
    settings = _settings()
    with _clear_errors(), batch_client(settings, _note) as client:
        processor = _processor(settings, None, client)
        state = processor.check_status(batch_id)
        if watch and state["status"] not in TERMINAL_STATUSES:
            with _bar(state["total"], f"Batch {batch_id}") as bar:
                while state["status"] not in TERMINAL_STATUSES:
                    _advance(bar, state)
                    time.sleep(interval)
                    state = processor.check_status(batch_id)
                _advance(bar, state)
    if as_json:
        _print_json(state)
        return
    click.echo(
        f"Batch {batch_id}: {state['status']} {state['completed'] + state['failed']}/{state['total']} "
        f"({state['progress_pct']}%), {state['failed']} failed"
    )
    for error in state["errors"]:
        click.echo(f"  {error['code']}: {error['message']}" + (f" (line {error['line']})" if error["line"] else ""))


@main.command()
@click.option("--batch-id", required=True, help="A finished batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def process(batch_id: str, as_json: bool) -> None:
    """Download a finished batch's results and write tags and summaries into the cache.

    Every request ends tagged or failed with its reason; failures are picked up by the
    next prepare while within TAGGING_MAX_ATTEMPTS. Prints the actual cost from the
    batch's usage and the saving against realtime. Safe to run again.
    """
    settings = _settings()
    with _clear_errors(), batch_client(settings, _note) as client, settings.open_cache() as cache:
        processor = _processor(settings, cache, client)
        with _bar(processor.record(batch_id).requests, "Writing to the cache") as bar:
            summary = processor.process_results(batch_id, progress=bar.update)
    if as_json:
        _print_json(summary)
        return
    click.echo(f"Batch {batch_id} ({summary['status']}): {summary['tagged']} tagged, {summary['failed']} failed.")
    for reason, count in summary["failed_by_reason"].items():
        click.echo(f"  failed {count}: {reason}")
    click.echo(
        f"{summary['input_tokens']:,} input + {summary['output_tokens']:,} output tokens: "
        f"{_usd(summary['cost_batch_usd'])} with the Batch API, {_usd(summary['cost_realtime_usd'])} realtime "
        f"(saved {_usd(summary['saving_usd'])})."
    )
    for row in summary["sample"]:
        click.echo(f"  {row['custom_id']}: {', '.join(row['tags'])}")


@main.command()
@click.option("--top", default=0, type=click.IntRange(min=0), help="Only the most frequent N tags [default: all].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {tagged_videos, tags: [{tag, videos}]}.")
def tags(top: int, as_json: bool) -> None:
    """How many videos carry each tag across the cache, most frequent first.

    Counted by the store, a facet over the `tags` payload field (TAGGING_COLLECTION, QDRANT_URL or QDRANT_PATH).
    """
    settings = _settings()
    with _clear_errors(), settings.open_cache() as cache:
        cache.require()
        frequencies, tagged = tag_frequencies(cache)
    ranked = frequencies.most_common(top or None)
    if as_json:
        _print_json({"tagged_videos": tagged, "tags": [{"tag": tag, "videos": count} for tag, count in ranked]})
        return
    if not ranked:
        click.echo("No video has tags yet: run `make demo`, or prepare, submit and process a batch.")
        return
    width = max(len(tag) for tag, _ in ranked)
    click.echo(f"{'tag':{width}}  videos")
    for tag, count in ranked:
        click.echo(f"{tag:{width}}  {count:>6}")
    click.echo(f"{len(frequencies)} distinct tags on {tagged} tagged videos.")


@main.command()
@click.option("--tag", required=True, help="The tag to look for, exactly as `tagging-assets tags` prints it.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of {point_id, video_id, title, tags, summary}."
)
def search(tag: str, as_json: bool) -> None:
    """List the videos tagged TAG, through a payload filter on `tags` (indexed on a Qdrant server)."""
    settings = _settings()
    with _clear_errors(), settings.open_cache() as cache:
        cache.require()
        videos = videos_with_tag(cache, tag)
    if as_json:
        _print_json([asdict(video) for video in videos])
        return
    if not videos:
        click.echo(f"No video is tagged {tag!r}; `tagging-assets tags` lists the tags in the cache.")
        return
    for video in videos:
        click.echo(f"{video.video_id}  {video.title}")
        click.echo(f"    {', '.join(video.tags)}")
        if video.summary:
            click.echo(f"    {video.summary}")
    click.echo(f"{len(videos)} video(s) tagged {tag!r}.")


@main.command()
def demo() -> None:
    """Run the Dagster pipeline end to end: seed if empty, submit, watch with the sensor, write back, report."""
    from tagging_assets.cli.demo import run_demo

    settings = _settings()
    with _clear_errors():
        report = run_demo(settings, click.echo)
    _print_demo(report)


def _print_demo(report: Any) -> None:
    tagged = [row for row in report.tags if (row["tagging"] or {}).get("status") == "tagged"]
    click.echo(f"\n{'video_id':36} tags")
    for row in tagged:
        click.echo(f"{row['video_id']:36} {', '.join(row['tags'] or [])}")
    others = [row for row in report.tags if row not in tagged]
    for row in others:
        state = row["tagging"] or {}
        click.echo(
            f"{row['video_id']:36} ({state.get('status', 'not tagged: no transcript')}) {state.get('error') or ''}"
        )
    batch_usd = sum(batch["cost_batch_usd"] for batch in report.batches)
    realtime_usd = sum(batch["cost_realtime_usd"] for batch in report.batches)
    tokens = sum(batch["input_tokens"] + batch["output_tokens"] for batch in report.batches)
    click.echo(
        f"\n{len(tagged)} of {len(report.tags)} videos tagged. This run: {len(report.batches)} batch(es), "
        f"{tokens:,} tokens, {_usd(batch_usd)} at batch prices ({_usd(realtime_usd)} realtime)."
    )


def _processor(settings: TaggingSettings, cache: QdrantCache | None, client: OpenAI | None) -> BatchProcessor:
    return BatchProcessor(
        cache,
        client,
        settings.model,
        settings.work_dir,
        settings.max_attempts,
        settings.max_transcript_tokens,
        settings.max_cost_usd,
        settings.enqueued_token_limit,
    )


def _note(message: str) -> None:
    click.echo(message, err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless --allow-remote.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where files, batches and progress are kept [env {ENV_PREFIX}STATE_DIR; default .gateway].",
)
@click.option(
    "--api-key",
    envvar=f"{ENV_PREFIX}API_KEY",
    default=None,
    help=f"Require this bearer token (better set as {ENV_PREFIX}API_KEY, which `ps` does not show).",
)
@click.option("--allow-remote", is_flag=True, help="Allow binding to an address other machines can reach.")
@_settings_options
def gateway(
    host: str, port: int, state_dir: Path | None, api_key: str | None, allow_remote: bool, **flags: Any
) -> None:
    """Serve the local OpenAI-compatible Files + Batch API with the offline tagger.

    Point the openai SDK at it with OPENAI_BASE_URL=http://HOST:PORT/v1. Every
    setting and injected fault can also come from TAGGING_GATEWAY_<NAME>.
    """
    from tagging_assets.gateway.server import serve
    from tagging_assets.gateway.settings import settings_from_env

    try:
        settings = settings_from_env({"state_dir": state_dir, "api_key": api_key, **flags})
        click.echo(f"gateway: serving http://{host}:{port}/v1 (state in {settings.state_dir})", err=True)
        serve(settings, host=host, port=port, allow_remote=allow_remote)
    except GatewayConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
