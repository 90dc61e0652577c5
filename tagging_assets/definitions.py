"""The Dagster definitions that workspace.yaml, `dagster dev` and `dg` load: the whole project over the
resources the environment configures."""

from __future__ import annotations

from collections.abc import Mapping

from dagster import ConfigurableResource, Definitions, in_process_executor

from tagging_assets.core.settings import TaggingSettings
from tagging_assets.defs import assets, checks
from tagging_assets.defs.jobs import process_batch, submit_batches
from tagging_assets.defs.resources import resources_from_settings
from tagging_assets.defs.schedules import submit_schedule
from tagging_assets.defs.sensors import batch_status_sensor

DEFAULT_SUBMIT_CRON = TaggingSettings().submit_cron


def build_definitions(
    resources: Mapping[str, ConfigurableResource], *, submit_cron: str = DEFAULT_SUBMIT_CRON
) -> Definitions:
    """The whole project over the given resources (the environment's, or a test's)."""
    return Definitions(
        assets=[
            assets.cached_transcripts,
            assets.batch_input_jsonl,
            assets.openai_batch_job,
            assets.batch_results_raw,
            assets.tagged_points,
        ],
        asset_checks=[
            checks.batch_input_is_valid,
            checks.every_request_accounted_for,
            checks.tags_follow_format,
            checks.cache_agrees_with_results,
            checks.tag_vocabulary_coherent,
        ],
        jobs=[submit_batches, process_batch],
        sensors=[batch_status_sensor],
        schedules=[submit_schedule(submit_cron)],
        resources=dict(resources),
        executor=in_process_executor,
    )


def definitions_from_settings(settings: TaggingSettings) -> Definitions:
    return build_definitions(resources_from_settings(settings), submit_cron=settings.submit_cron)


defs = definitions_from_settings(TaggingSettings.from_env())
