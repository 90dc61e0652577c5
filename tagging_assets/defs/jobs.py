"""The two jobs: submit what needs tags, and process one finished batch."""

from dagster import AssetSelection, define_asset_job

from tagging_assets.defs.assets import (
    batch_input_jsonl,
    batch_results_raw,
    cached_transcripts,
    openai_batch_job,
    tagged_points,
)

EMBEDDED_STORE_TAG = {"tagging-assets/cache": "qdrant"}
"""Runs that open the cache carry this tag; the dagster.yaml of `make dev` lets one such run go at a time,
because an embedded Qdrant store admits one client."""

submit_batches = define_asset_job(
    "submit_batches",
    selection=AssetSelection.assets(cached_transcripts, batch_input_jsonl, openai_batch_job),
    description="Select what needs tags, write the requests, and submit them as batches.",
    tags=EMBEDDED_STORE_TAG,
)

process_batch = define_asset_job(
    "process_batch",
    selection=AssetSelection.assets(batch_results_raw, tagged_points),
    description="Download one finished batch's results and write its tags into the cache.",
    tags=EMBEDDED_STORE_TAG,
)
