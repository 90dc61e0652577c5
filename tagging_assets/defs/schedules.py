"""The schedule that submits what is new or stale; an unchanged cache submits nothing and costs nothing."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition

from tagging_assets.defs.jobs import submit_batches


def submit_schedule(cron: str) -> ScheduleDefinition:
    """The submit job on ``cron`` (TAGGING_SUBMIT_CRON, hourly by default)."""
    return ScheduleDefinition(
        name="submit_new_and_stale",
        job=submit_batches,
        cron_schedule=cron,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"On `{cron}` (TAGGING_SUBMIT_CRON), submit the transcripts that are new, changed or due a retry.",
    )
