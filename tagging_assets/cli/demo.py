"""The end-to-end demo: the Dagster definitions run as the daemon would run them.

Seed the cache if it is empty, run the submit job, evaluate the sensor until every
batch has finished, run the process job for each batch it asks for, then report
what was tagged and what it cost. Runs land in the Dagster instance at
DAGSTER_HOME, so `make dev` shows them afterwards. Running it again is safe: an
unchanged cache submits nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from dagster import DagsterInstance, SensorResult, build_sensor_context

from tagging_assets.cli.backend import local_gateway
from tagging_assets.cli.output import priced_per_mode
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.contracts import Submission, TaggingState, WritebackSummary
from tagging_assets.core.settings import PROVIDER_NAMES, TaggingSettings
from tagging_assets.definitions import definitions_from_settings
from tagging_assets.defs.assets import tagged_points
from tagging_assets.defs.resources import resources_from_settings
from tagging_assets.defs.sensors import batch_status_sensor
from tagging_assets.seed.samples import load_samples
from tagging_assets.seed.seeding import seed_cache

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""Run events go to the Dagster instance (and its UI); the terminal shows the demo's own lines."""


@dataclass(frozen=True)
class VideoTags:
    """One video as the demo prints it."""

    video_id: str
    tags: list[str]
    tagging: TaggingState | None


@dataclass
class DemoReport:
    seeded: int = 0
    batches: list[WritebackSummary] = field(default_factory=list)
    videos: list[VideoTags] = field(default_factory=list)


def ensure_dagster_home(settings: TaggingSettings) -> Path:
    """The settings' DAGSTER_HOME, with the project's dagster.yaml if it has none; Dagster reads it from the
    environment, so it is set there for this process."""
    home = settings.dagster_home.resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(resources.files("tagging_assets").joinpath("dagster.yaml").read_text(encoding="utf-8"))
    return home


def run_demo(
    settings: TaggingSettings, say: Callable[[str], None] = print, timeout_seconds: float = 1800
) -> DemoReport:
    """Run the pipeline once, end to end, on whatever backend and cache the settings name."""
    home = ensure_dagster_home(settings)
    report = DemoReport()
    with QdrantCache.from_settings(settings) as cache:
        if not cache.exists() or cache.count() == 0:
            report.seeded = seed_cache(cache, load_samples()).added
            say(f"Seeded {report.seeded} sample transcripts into {settings.collection!r}.")
    instance = DagsterInstance.get()
    say(f"Dagster instance: {home}")
    defs = definitions_from_settings(settings)
    resources = resources_from_settings(settings)
    submit_job = defs.resolve_job_def("submit_batches")
    process = defs.resolve_job_def("process_batch")

    def submit() -> Submission:
        result = submit_job.execute_in_process(instance=instance, run_config=QUIET)
        return result.output_for_node("openai_batch_job")

    gateway = local_gateway(settings, say) if settings.uses_local_gateway else nullcontext()
    with gateway:
        where = "the local gateway" if settings.uses_local_gateway else "the API"
        api = PROVIDER_NAMES[settings.batch_provider]
        say(
            f"Tagging with {settings.model} at {api} ({where}, {settings.batch_api_url or 'its default URL'}), "
            f"TAGGING_MODE={settings.mode}."
        )
        submission = submit()
        jobs = ", ".join(job.batch_id for job in submission.batches) or "nothing new to tag"
        say(f"Submitted {len(submission.batches)} {submission.mode} job(s): {jobs}")
        deadline = time.monotonic() + timeout_seconds
        while True:
            tick = _sensor_tick(instance, resources)
            if tick.run_requests:
                for request in tick.run_requests:
                    if request.job_name == "submit_batches":
                        more = submit()
                        say(f"Submitted {len(more.batches)} more {more.mode} job(s)")
                        continue
                    run = process.execute_in_process(
                        instance=instance, partition_key=request.partition_key, tags=request.tags, run_config=QUIET
                    )
                    summary: WritebackSummary = run.output_for_node("tagged_points")
                    report.batches.append(summary)
                    say(f"Processed {request.partition_key}: {summary.tagged} tagged, {summary.failed} failed")
                continue
            waiting = tick.skip_reason.skip_message if tick.skip_reason else ""
            if waiting == "no batches in flight":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"batches still in flight after {timeout_seconds:.0f} s: {waiting}")
            say(f"Waiting: {waiting}")
            time.sleep(2)
    report.videos = _videos_in_cache(settings)
    processed = instance.get_materialized_partitions(tagged_points.key)
    say(f"Batches processed in this instance so far: {len(processed)}")
    return report


def _videos_in_cache(settings: TaggingSettings) -> list[VideoTags]:
    with QdrantCache.from_settings(settings) as cache:
        videos = [
            VideoTags(video_id=str(point.video_id), tags=list(point.tags), tagging=point.tagging)
            for point in cache.points()
        ]
    return sorted(videos, key=lambda video: video.video_id)


def print_report(report: DemoReport, say: Callable[[str], None], usd: Callable[[float], str]) -> None:
    """Every video's tags (or why it has none), then what this run's batches cost."""
    tagged = [video for video in report.videos if video.tagging and video.tagging.status == "tagged"]
    say(f"\n{'video_id':36} tags")
    for video in tagged:
        say(f"{video.video_id:36} {', '.join(video.tags)}")
    for video in report.videos:
        if video in tagged:
            continue
        state = video.tagging
        status = state.status if state else "not tagged: no transcript"
        say(f"{video.video_id:36} ({status}) {(state.error if state else None) or ''}")
    batches = report.batches
    tokens = sum(batch.input_tokens + batch.output_tokens for batch in batches)
    cached = sum(batch.cached_input_tokens for batch in batches)
    reasoning = sum(batch.reasoning_tokens for batch in batches)
    modes = sorted({batch.cost_mode for batch in batches}) or ["batch"]
    jobs = f"{len(batches)} {' and '.join(modes)} job(s)"
    say(
        f"\n{len(tagged)} of {len(report.videos)} videos tagged. This run: {jobs}, {tokens:,} tokens "
        f"({cached:,} cached input, {reasoning:,} reasoning), {priced_per_mode(batches, modes)}."
    )


def _sensor_tick(instance: DagsterInstance, sensor_resources: Mapping[str, object]) -> SensorResult:
    """One tick of the sensor, called as a function; it always answers with a ``SensorResult``."""
    result = batch_status_sensor(build_sensor_context(instance=instance, resources=sensor_resources))
    if not isinstance(result, SensorResult):
        raise TypeError(f"batch_status_sensor returned {type(result).__name__}, not a SensorResult")
    return result
