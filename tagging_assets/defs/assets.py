"""The five assets, from the cache to tags written back. Each calls the library and
reports what it did as metadata; they hand each other small manifests, never transcripts."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
from dagster import AssetExecutionContext, Failure, MetadataValue, asset

from tagging_assets.batches.processor import BatchError, TokenBudgetError
from tagging_assets.core.audit import markdown_table
from tagging_assets.core.cache import CacheError
from tagging_assets.core.cost import EXPECTED_OUTPUT_TOKENS, CostCapError, PricingError, cost_of, enforce_cap
from tagging_assets.core.prompt import PROMPT_VERSION
from tagging_assets.core.report import tag_frequencies
from tagging_assets.core.shards import (
    SelectionReport,
    Shard,
    collector_paused,
    read_snapshot,
    select_items,
    write_shards,
    write_snapshot,
)
from tagging_assets.core.tokens import counter_for
from tagging_assets.defs.partitions import batch_partitions
from tagging_assets.defs.resources import BatchApiResource, QdrantCacheResource, TaggingResource

GROUP = "tagging"
OWNERS = ["team:ai-data"]
TAGS_LISTED = 20


@contextmanager
def failing_clearly() -> Iterator[None]:
    """A step that cannot go on fails with one line saying why (after the SDK's retries are spent), not a
    stack of library frames; the run's logs still hold the cause."""
    try:
        yield
    except (BatchError, CacheError, CostCapError, PricingError) as error:
        raise Failure(description=str(error)) from error
    except openai.APIStatusError as error:
        raise Failure(description=f"the Batch API answered {error.status_code}: {error.message}") from error
    except openai.APIConnectionError as error:
        raise Failure(description=f"cannot reach the Batch API after retrying: {error}") from error


def _cost_metadata(prefix: str, model: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    cost = cost_of(model, input_tokens, output_tokens)
    return {
        f"{prefix}_cost_batch_usd": MetadataValue.float(round(cost.batch_usd, 6)),
        f"{prefix}_cost_realtime_usd": MetadataValue.float(round(cost.realtime_usd, 6)),
        f"{prefix}_saving_usd": MetadataValue.float(round(cost.saving_usd, 6)),
    }


@asset(
    group_name=GROUP,
    kinds={"qdrant"},
    owners=OWNERS,
    description="The transcripts in the cache that need tags now: never tagged, changed since, tagged with "
    "another prompt or model, or failed within their retry budget. A snapshot on disk, not in memory.",
)
def cached_transcripts(
    context: AssetExecutionContext, qdrant: QdrantCacheResource, tagging: TaggingResource
) -> dict[str, Any]:
    report = SelectionReport()
    snapshot = Path(tagging.work_dir).resolve() / "snapshots" / f"{context.run.run_id}.jsonl"
    with failing_clearly(), qdrant.open() as cache, collector_paused():
        cache.require()
        items = select_items(
            cache,
            report,
            tagging.model,
            PROMPT_VERSION,
            tagging.max_attempts,
            max_transcript_tokens=tagging.max_transcript_tokens,
        )
        count = write_snapshot(items, snapshot)
    context.add_output_metadata(
        {
            "collection": qdrant.collection,
            "points_scanned": report.scanned,
            "items_selected": count,
            "items_truncated": report.truncated,
            "items_given_up": report.skipped.get("given-up", 0),
            "selected_by_reason": MetadataValue.json(dict(report.selected)),
            "skipped_by_reason": MetadataValue.json(dict(report.skipped)),
            "snapshot": MetadataValue.path(str(snapshot)),
        }
    )
    return {"snapshot": str(snapshot), "items": count, "model": tagging.model}


@asset(
    group_name=GROUP,
    kinds={"jsonl"},
    owners=OWNERS,
    description="Batch API input: one JSONL request per selected transcript, asking for tags and a summary "
    "with Structured Outputs, sharded to the API's limits (50,000 requests, 200 MB a file), each shard with "
    "an index for write-back. Carries the input tokens (exact with tiktoken when its encoding is on the machine) "
    "and the expected cost at batch and realtime prices.",
)
def batch_input_jsonl(
    context: AssetExecutionContext, tagging: TaggingResource, cached_transcripts: dict[str, Any]
) -> dict[str, Any]:
    directory = Path(tagging.work_dir).resolve() / "submissions" / context.run.run_id
    counter = counter_for(tagging.model)
    shards = write_shards(
        read_snapshot(Path(cached_transcripts["snapshot"])),
        lambda number: directory / f"requests-{number:04d}.jsonl",
        tagging.model,
        max_requests=tagging.max_requests_per_file,
        max_tokens=tagging.enqueued_token_limit,
        counter=counter,
    )
    requests = sum(shard.requests for shard in shards)
    input_tokens = sum(shard.input_tokens for shard in shards)
    context.add_output_metadata(
        {
            "shards": len(shards),
            "requests": requests,
            "bytes": sum(shard.bytes for shard in shards),
            "input_tokens": input_tokens,
            "token_count": counter.method,
            "largest_request_tokens": max((shard.largest_request_tokens for shard in shards), default=0),
            "estimated_output_tokens": requests * EXPECTED_OUTPUT_TOKENS,
            **_cost_metadata("estimated", tagging.model, input_tokens, requests * EXPECTED_OUTPUT_TOKENS),
            "files": MetadataValue.md(
                markdown_table(
                    [{"file": str(s.path), "requests": s.requests, "bytes": s.bytes} for s in shards],
                    ["file", "requests", "bytes"],
                )
            ),
        }
    )
    return {"submission_id": context.run.run_id, "shards": [shard.as_dict() for shard in shards]}


@asset(
    group_name=GROUP,
    kinds={"openai"},
    owners=OWNERS,
    description="The batches at the Batch API: each shard uploaded and a batch created (or the batch already "
    "made from the same bytes found again), the items marked pending in the cache, and one partition added "
    "per batch for the sensor to watch.",
)
def openai_batch_job(
    context: AssetExecutionContext,
    qdrant: QdrantCacheResource,
    batch_api: BatchApiResource,
    tagging: TaggingResource,
    batch_input_jsonl: dict[str, Any],
) -> dict[str, Any]:
    shards = [Shard.from_dict(shard) for shard in batch_input_jsonl["shards"]]
    input_tokens = sum(shard.input_tokens for shard in shards)
    requests = sum(shard.requests for shard in shards)
    estimate = cost_of(tagging.model, input_tokens, requests * EXPECTED_OUTPUT_TOKENS)
    submitted, deferred = [], []
    with failing_clearly():
        enforce_cap(estimate, tagging.max_cost_usd, f"this submission ({requests:,} requests)")
        with qdrant.open() as cache:
            processor = tagging.processor(cache, batch_api.get_client())
            for shard in shards:
                try:
                    batch_id = processor.submit_batch(shard.path, batch_input_jsonl["submission_id"])
                except TokenBudgetError as waiting:
                    context.log.info(str(waiting))
                    deferred.append(shard)
                    continue
                context.instance.add_dynamic_partitions(batch_partitions.name, [batch_id])
                submitted.append({"batch_id": batch_id, "requests": shard.requests, "input_file": str(shard.path)})
    batch_ids = [batch["batch_id"] for batch in submitted]
    context.add_output_metadata(
        {
            "batches": len(batch_ids),
            "requests": sum(batch["requests"] for batch in submitted),
            "deferred_shards": len(deferred),
            "deferred_requests": sum(shard.requests for shard in deferred),
            "batch_ids": MetadataValue.json(batch_ids),
            **_cost_metadata("estimated", tagging.model, input_tokens, requests * EXPECTED_OUTPUT_TOKENS),
            "submitted": MetadataValue.md(markdown_table(submitted, ["batch_id", "requests", "input_file"])),
        }
    )
    if not batch_ids and not deferred:
        context.log.info("nothing needs tags: no batch submitted, nothing spent")
    return {"submission_id": batch_input_jsonl["submission_id"], "batches": submitted}


@asset(
    group_name=GROUP,
    kinds={"openai", "jsonl"},
    owners=OWNERS,
    partitions_def=batch_partitions,
    deps=[openai_batch_job],
    description="One finished batch's output and error files, downloaded to disk, with its final status, "
    "request counts, usage and actual cost.",
)
def batch_results_raw(
    context: AssetExecutionContext, batch_api: BatchApiResource, tagging: TaggingResource
) -> dict[str, Any]:
    batch_id = context.partition_key
    processor = tagging.processor(None, batch_api.get_client())
    target = Path(tagging.work_dir).resolve() / "results" / batch_id / "output.jsonl"
    with failing_clearly():
        batch = processor.client.batches.retrieve(batch_id)
        paths = processor.download_results(batch_id, target, batch)
    counts = batch.request_counts
    usage = batch.usage
    model = batch.model or tagging.model
    metadata: dict[str, Any] = {
        "batch_id": batch_id,
        "status": batch.status,
        "requests_total": counts.total if counts else 0,
        "requests_completed": counts.completed if counts else 0,
        "requests_failed": counts.failed if counts else 0,
        "output_bytes": paths.get("output_bytes", 0),
        "error_bytes": paths.get("errors_bytes", 0),
    }
    if usage:
        metadata |= {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        metadata |= _cost_metadata("actual", model, usage.input_tokens, usage.output_tokens)
    for key in ("output", "errors"):
        if paths[key]:
            metadata[f"{key}_file"] = MetadataValue.path(paths[key])
    if url := batch_api.dashboard_url(batch_id):
        metadata["dashboard"] = MetadataValue.url(url)
    if batch.errors and batch.errors.data:
        metadata["validation_errors"] = MetadataValue.json([error.model_dump() for error in batch.errors.data])
    context.add_output_metadata(metadata)
    return {"batch_id": batch_id, "status": batch.status, "output": paths["output"], "errors": paths["errors"]}


@asset(
    group_name=GROUP,
    kinds={"qdrant"},
    owners=OWNERS,
    partitions_def=batch_partitions,
    description="Tags and a one-sentence summary written back into the cache for every success of one batch, "
    "and the reason on every failure, with tokens and cost at batch and realtime prices.",
)
def tagged_points(
    context: AssetExecutionContext,
    qdrant: QdrantCacheResource,
    batch_api: BatchApiResource,
    tagging: TaggingResource,
    batch_results_raw: dict[str, Any],
) -> dict[str, Any]:
    with failing_clearly(), qdrant.open() as cache:
        processor = tagging.processor(cache, batch_api.get_client())
        summary = processor.process_results(
            batch_results_raw["batch_id"], batch_results_raw["output"], batch_results_raw["errors"]
        )
        frequencies, tagged_videos = tag_frequencies(cache)
    submitted = summary["submitted"] or 1
    written = summary["tags_written"]
    context.add_output_metadata(
        {
            "status": summary["status"],
            "items_tagged": summary["tagged"],
            "items_failed": summary["failed"],
            "failure_rate": MetadataValue.float(round(summary["failed"] / submitted, 4)),
            "input_tokens": summary["input_tokens"],
            "output_tokens": summary["output_tokens"],
            "cost_batch_usd": MetadataValue.float(summary["cost_batch_usd"]),
            "cost_realtime_usd": MetadataValue.float(summary["cost_realtime_usd"]),
            "saving_usd": MetadataValue.float(summary["saving_usd"]),
            "failures_by_reason": MetadataValue.md(
                markdown_table(
                    [{"reason": r, "count": c} for r, c in summary["failed_by_reason"].items()], ["reason", "count"]
                )
            ),
            "sample_tags": MetadataValue.md(markdown_table(summary["sample"], ["custom_id", "tags", "summary"])),
            "tags_in_this_batch": MetadataValue.md(
                markdown_table(
                    [
                        {"tag": tag, "videos in this batch": count, "videos in the cache": frequencies[tag]}
                        for tag, count in list(written.items())[:TAGS_LISTED]
                    ],
                    ["tag", "videos in this batch", "videos in the cache"],
                )
            ),
            "tags_only_in_this_batch": MetadataValue.json(
                sorted(tag for tag, count in written.items() if frequencies[tag] == count)
            ),
            "top_tags_in_cache": MetadataValue.md(
                markdown_table(
                    [{"tag": tag, "videos": count} for tag, count in frequencies.most_common(TAGS_LISTED)],
                    ["tag", "videos"],
                )
            ),
            "distinct_tags_in_cache": len(frequencies),
            "tagged_videos_in_cache": tagged_videos,
        }
    )
    return {key: value for key, value in summary.items() if key != "sample"}
