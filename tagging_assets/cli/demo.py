"""The end-to-end demo: the Dagster definitions run as the daemon would run them.

Seed the cache if it is empty, run the submit job, evaluate the sensor until every
batch has finished, run the process job for each batch it asks for, then report
what was tagged and what it cost. Runs land in the Dagster instance at
DAGSTER_HOME, so `make dev` shows them afterwards. Running it again is safe: an
unchanged cache submits nothing.
"""

import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterInstance, build_sensor_context

from tagging_assets.cli.backend import local_gateway
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.seed.samples import load_samples
from tagging_assets.seed.seeding import seed_cache

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""Run events go to the Dagster instance (and its UI); the terminal shows the demo's own lines."""


@dataclass
class DemoReport:
    seeded: int = 0
    batches: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, by default ``.dagster_home``, with the project's dagster.yaml if it has none."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(resources.files("tagging_assets").joinpath("dagster.yaml").read_text(encoding="utf-8"))
    return home


def run_demo(
    settings: TaggingSettings, say: Callable[[str], None] = print, timeout_seconds: float = 1800
) -> DemoReport:
    """Run the pipeline once, end to end, on whatever backend and cache the settings name."""
    home = ensure_dagster_home()
    report = DemoReport()
    with settings.open_cache() as cache:
        if not cache.exists() or cache.count() == 0:
            report.seeded = seed_cache(cache, load_samples()).added
            say(f"Seeded {report.seeded} sample transcripts into {settings.collection!r}.")
    from tagging_assets.definitions import defs, resources_from_env
    from tagging_assets.defs.sensors import batch_status_sensor

    instance = DagsterInstance.get()
    say(f"Dagster instance: {home}")
    gateway = local_gateway(settings, say) if settings.uses_local_gateway else nullcontext()
    with gateway:
        submit_job = defs.resolve_job_def("submit_batches")
        submitted = submit_job.execute_in_process(instance=instance, run_config=QUIET)
        batches = submitted.output_for_node("openai_batch_job")["batches"]
        say(f"Submitted {len(batches)} batch(es): {', '.join(b['batch_id'] for b in batches) or 'nothing new to tag'}")
        resources = resources_from_env(settings)
        process = defs.resolve_job_def("process_batch")
        deadline = time.monotonic() + timeout_seconds
        while True:
            result = batch_status_sensor(build_sensor_context(instance=instance, resources=resources))
            if result.run_requests:
                for request in result.run_requests:
                    if request.job_name == "submit_batches":
                        more = submit_job.execute_in_process(instance=instance, run_config=QUIET)
                        say(f"Submitted {len(more.output_for_node('openai_batch_job')['batches'])} more batch(es)")
                        continue
                    run = process.execute_in_process(
                        instance=instance, partition_key=request.partition_key, tags=request.tags, run_config=QUIET
                    )
                    summary = run.output_for_node("tagged_points")
                    report.batches.append(summary)
                    say(f"Processed {request.partition_key}: {summary['tagged']} tagged, {summary['failed']} failed")
                continue
            waiting = result.skip_reason.skip_message if result.skip_reason else ""
            if waiting == "no batches in flight":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"batches still in flight after {timeout_seconds:.0f} s: {waiting}")
            say(f"Waiting: {waiting}")
            time.sleep(2)
    report.tags = _tags_in_cache(settings)
    processed = instance.get_materialized_partitions(AssetKey("tagged_points"))
    say(f"Batches processed in this instance so far: {len(processed)}")
    return report


def _tags_in_cache(settings: TaggingSettings) -> list[dict[str, Any]]:
    with settings.open_cache() as cache:
        rows = [
            {
                "video_id": payload.get(cache.fields.video_id),
                "tags": payload.get("tags"),
                "tagging": payload.get("tagging"),
            }
            for _, payload in cache.scroll([cache.fields.video_id, "tags", "tagging"])
        ]
    return sorted(rows, key=lambda row: str(row["video_id"]))
