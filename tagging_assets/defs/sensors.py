"""The sensor that watches batches in flight: their statuses from the API's listing, a hundred a call."""

import json
import time
from typing import Any

from dagster import (
    AssetObservation,
    DagsterInstance,
    DefaultSensorStatus,
    IntMetadataValue,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from tagging_assets.batches.jobs import Jobs
from tagging_assets.batches.providers import EXPIRY_WARNING_SECONDS
from tagging_assets.core.contracts import BatchStatus
from tagging_assets.core.protocol import TERMINAL_STATUSES
from tagging_assets.defs.assets import batch_results_raw, openai_batch_job, tagged_points
from tagging_assets.defs.jobs import process_batch, submit_batches
from tagging_assets.defs.partitions import BATCH_PARTITIONS
from tagging_assets.defs.resources import BatchApiResource, TaggingResource


def _progress(status: BatchStatus, stuck_seconds: float | None) -> AssetObservation:
    """A batch's progress, recorded on its own partition so the UI plots it per batch."""
    metadata: dict[str, Any] = {
        "status": status.status,
        "mode": status.metadata.get("mode", "batch"),
        "requests_total": status.total,
        "requests_completed": status.completed,
        "requests_failed": status.failed,
        "progress_pct": MetadataValue.float(status.progress_pct),
    }
    if stuck_seconds is not None:
        metadata["stuck_seconds"] = MetadataValue.float(round(stuck_seconds, 1))
    return AssetObservation(asset_key=batch_results_raw.key, partition=status.batch_id, metadata=metadata)


def _warn_if_expiring(context: SensorEvaluationContext, api: Jobs, status: BatchStatus) -> None:
    """A finished batch still unprocessed is requested a run each time it finishes; if that run failed, its
    output sits at the API until it expires (TAGGING_FILE_TTL_DAYS; 29 days at Anthropic). Say so while there
    is time."""
    left = api.output_expires_in(status, now=time.time())
    if left is not None and left < EXPIRY_WARNING_SECONDS:
        context.log.warning(
            "batch %s finished but is not processed, and its results expire at the API in %.1f h: "
            "run process_batch for partition %s now",
            status.batch_id,
            max(left, 0) / 3600,
            status.batch_id,
        )


LISTED_PER_TICK = 20
"""Batches in flight a tick names in its log and skip reason; every one still gets its observation."""


def _at_most(lines: list[str], most: int) -> list[str]:
    """The first ``most`` lines and a count of the rest: a tick's log and skip reason stay short at a thousand
    batches, while the observations hold each batch's progress."""
    if len(lines) <= most:
        return lines
    return [*lines[:most], f"and {len(lines) - most:,} more batches in flight"]


def _by_error(failed: dict[str, str]) -> list[str]:
    """One line per error, naming the first few batches it kept from being read: a listing that fails fails for
    every batch at once."""
    batches: dict[str, list[str]] = {}
    for batch_id, error in failed.items():
        batches.setdefault(error, []).append(batch_id)
    lines = []
    for error, ids in batches.items():
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        lines.append(f"{', '.join(ids[:3])}{more}: {error}")
    return lines


def _deferred_requests(instance: DagsterInstance) -> int:
    """Requests the last submission left waiting for the enqueued-token budget."""
    event = instance.get_latest_materialization_event(openai_batch_job.key)
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    deferred = metadata.get("deferred_requests")
    return (deferred.value or 0) if isinstance(deferred, IntMetadataValue) else 0


@sensor(
    jobs=[process_batch, submit_batches],
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Asks the Batch API for the status of every batch not yet processed, records its progress "
    "(status, request counts) as an observation of that batch's partition of batch_results_raw whenever it "
    "changes, and, once a batch finishes (completed, expired, cancelled or failed), requests one run that "
    "downloads and writes back its results; when work waits for the enqueued-token budget, a finished batch "
    "also requests a new submission.",
)
def batch_status_sensor(
    context: SensorEvaluationContext, batch_api: BatchApiResource, tagging: TaggingResource
) -> SensorResult:
    instance = context.instance
    processed = instance.get_materialized_partitions(tagged_points.key)
    in_flight = [key for key in instance.get_dynamic_partitions(BATCH_PARTITIONS) if key not in processed]
    if not in_flight:
        return SensorResult(skip_reason="no batches in flight")
    api = tagging.jobs(batch_api, quick=True)
    run_requests: list[RunRequest] = []
    progress: list[str] = []
    observations: list[AssetObservation] = []
    last_seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    seen: dict[str, str] = {}
    statuses = api.statuses(in_flight)
    unknown = statuses.unknown
    unreachable = _by_error(statuses.unreachable)
    for batch_id in statuses.unreachable:
        if batch_id in last_seen:
            seen[batch_id] = last_seen[batch_id]
    for batch_id, status in statuses.found.items():
        stuck = status.stuck_for(time.time(), tagging.stuck_after_seconds)
        seen[batch_id] = f"{status.status}:{status.completed}:{status.failed}:{stuck is not None}"
        if seen[batch_id] != last_seen.get(batch_id):
            observations.append(_progress(status, stuck))
        if status.status in TERMINAL_STATUSES:
            _warn_if_expiring(context, api, status)
            run_requests.append(
                RunRequest(
                    job_name=process_batch.name,
                    run_key=f"{batch_id}:{status.status}",
                    partition_key=batch_id,
                    tags={"tagging-assets/batch-status": status.status},
                )
            )
        else:
            line = f"{batch_id} {status.status} {status.progress_pct}%"
            if stuck is not None:
                line += f" (stuck: {status.status} for {stuck / 3600:.1f} h)"
                context.log.warning("batch %s has been %s for %.0f s", batch_id, status.status, stuck)
            progress.append(line)
    progress = _at_most(progress, LISTED_PER_TICK)
    for line in progress:
        context.log.info(line)
    if unreachable:
        context.log.warning("could not reach the Batch API for %s", "; ".join(unreachable))
    if unknown:
        context.log.warning(
            "the Batch API at %s does not know %s: made at another API (or with another key); point the "
            "batch_api resource back at that one to process it",
            api.base_url,
            ", ".join(unknown),
        )
    if run_requests and _deferred_requests(instance) > 0:
        finished = "+".join(sorted(request.partition_key or "" for request in run_requests))
        run_requests.append(RunRequest(job_name=submit_batches.name, run_key=f"submit-after:{finished}"))
    cursor = json.dumps(seen, sort_keys=True)
    if run_requests:
        return SensorResult(run_requests=run_requests, asset_events=observations, cursor=cursor)
    reasons = progress + [f"unreachable: {line}" for line in unreachable] + [f"unknown: {line}" for line in unknown]
    return SensorResult(asset_events=observations, cursor=cursor, skip_reason="; ".join(reasons))
