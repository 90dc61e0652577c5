"""The Dagster definitions: assets, checks, jobs, the sensor, the schedule and the resources."""

from dagster import Definitions, EnvVar, in_process_executor

from tagging_assets.core.settings import LOCAL_GATEWAY_KEY, TaggingSettings
from tagging_assets.defs import assets, checks
from tagging_assets.defs.jobs import process_batch, submit_batches
from tagging_assets.defs.resources import BatchApiResource, QdrantCacheResource, TaggingResource
from tagging_assets.defs.schedules import submit_schedule
from tagging_assets.defs.sensors import batch_status_sensor


def resources_from_env(settings: TaggingSettings | None = None) -> dict[str, object]:
    """Resources as the environment configures them; secrets stay ``EnvVar`` s, never values."""
    settings = settings or TaggingSettings.from_env()
    return {
        "qdrant": QdrantCacheResource(
            collection=settings.collection,
            path=str(settings.qdrant_path.resolve()),
            url=settings.qdrant_url,
            api_key=EnvVar("QDRANT_API_KEY") if settings.qdrant_api_key else None,
        ),
        "batch_api": BatchApiResource(
            base_url=settings.batch_api_url,
            api_key=EnvVar("OPENAI_API_KEY") if settings.openai_api_key else LOCAL_GATEWAY_KEY,
        ),
        "tagging": TaggingResource(
            model=settings.model,
            work_dir=str(settings.work_dir.resolve()),
            max_attempts=settings.max_attempts,
            max_transcript_tokens=settings.max_transcript_tokens,
            stuck_after_seconds=settings.stuck_after_seconds,
            max_cost_usd=settings.max_cost_usd,
            enqueued_token_limit=settings.enqueued_token_limit,
        ),
    }


ASSETS = [
    assets.cached_transcripts,
    assets.batch_input_jsonl,
    assets.openai_batch_job,
    assets.batch_results_raw,
    assets.tagged_points,
]
CHECKS = [
    checks.batch_input_is_valid,
    checks.every_request_accounted_for,
    checks.tags_follow_format,
    checks.cache_agrees_with_results,
]


def build_definitions(resources: dict[str, object]) -> Definitions:
    """The whole project over the given resources (the environment's, or a test's)."""
    return Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[submit_batches, process_batch],
        sensors=[batch_status_sensor],
        schedules=[submit_schedule],
        resources=resources,
        executor=in_process_executor,
    )


defs = build_definitions(resources_from_env())
