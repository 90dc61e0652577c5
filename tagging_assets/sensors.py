"""The sensor that watches batches in flight: one status call per batch, nothing else."""

import time

from dagster import (
    AssetKey,
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from openai import OpenAIError

from tagging_assets.jobs import process_batch, submit_batches
from tagging_assets.partitions import batch_partitions
from tagging_assets.processor import TERMINAL_STATUSES, status_summary, stuck_for
from tagging_assets.resources import BatchApiResource, TaggingResource

TAGGED_POINTS = AssetKey("tagged_points")
SUBMITTED = AssetKey("openai_batch_job")


def _deferred_requests(instance: DagsterInstance) -> int:
    """Requests the last submission left waiting for the enqueued-token budget."""
    event = instance.get_latest_materialization_event(SUBMITTED)
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    deferred = metadata.get("deferred_requests")
    return int(deferred.value) if deferred is not None else 0


@sensor(
    jobs=[process_batch, submit_batches],
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Asks the Batch API for the status of every batch not yet processed and, once a batch "
    "finishes (completed, expired, cancelled or failed), requests one run that downloads and writes back its "
    "results; when work waits for the enqueued-token budget, a finished batch also requests a new submission.",
)
def batch_status_sensor(
    context: SensorEvaluationContext, batch_api: BatchApiResource, tagging: TaggingResource
) -> SensorResult | SkipReason:
    instance = context.instance
    processed = instance.get_materialized_partitions(TAGGED_POINTS)
    in_flight = [key for key in instance.get_dynamic_partitions(batch_partitions.name) if key not in processed]
    if not in_flight:
        return SkipReason("no batches in flight")
    client = batch_api.get_client(max_retries=1, timeout_seconds=10)
    run_requests: list[RunRequest] = []
    progress: list[str] = []
    unreachable: list[str] = []
    for batch_id in in_flight:
        try:
            status = status_summary(client.batches.retrieve(batch_id))
        except OpenAIError as error:
            unreachable.append(f"{batch_id}: {type(error).__name__}")
            continue
        if status["status"] in TERMINAL_STATUSES:
            run_requests.append(
                RunRequest(
                    run_key=f"{batch_id}:{status['status']}",
                    partition_key=batch_id,
                    tags={"tagging-assets/batch-status": status["status"]},
                )
            )
        else:
            line = f"{batch_id} {status['status']} {status['progress_pct']}%"
            stuck = stuck_for(status, time.time(), tagging.stuck_after_seconds)
            if stuck is not None:
                line += f" (stuck: {status['status']} for {stuck / 3600:.1f} h)"
                context.log.warning("batch %s has been %s for %.0f s", batch_id, status["status"], stuck)
            progress.append(line)
    for line in progress:
        context.log.info(line)
    if unreachable:
        context.log.warning("could not reach the Batch API for %s", "; ".join(unreachable))
    if run_requests and _deferred_requests(instance) > 0:
        finished = "+".join(sorted(request.partition_key or "" for request in run_requests))
        run_requests.append(RunRequest(job_name=submit_batches.name, run_key=f"submit-after:{finished}"))
    if run_requests:
        return SensorResult(run_requests=run_requests)
    reasons = progress + [f"unreachable: {line}" for line in unreachable]
    return SkipReason("; ".join(reasons))
