"""The schedule that submits what is new or stale; an unchanged cache submits nothing and costs nothing."""

import os

from dagster import DefaultScheduleStatus, ScheduleDefinition

from tagging_assets.defs.jobs import submit_batches

submit_schedule = ScheduleDefinition(
    name="submit_new_and_stale",
    job=submit_batches,
    cron_schedule=os.environ.get("TAGGING_SUBMIT_CRON", "0 * * * *"),
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every hour (TAGGING_SUBMIT_CRON), submit the transcripts that are new, changed or due a retry.",
)
