"""The five assets, from the cache to tags written back. Each calls the library and reports what it did as
metadata; they hand each other small typed manifests, never transcripts."""

import time
from collections import Counter
from dataclasses import asdict

from dagster import AssetExecutionContext, MetadataValue, asset

from tagging_assets.batches import steps
from tagging_assets.batches.providers import status_naming_its_api
from tagging_assets.core.contracts import (
    BatchInput,
    DownloadedFiles,
    SelectedItems,
    SelectionReport,
    Submission,
    SubmittedBatch,
    WritebackSummary,
)
from tagging_assets.core.report import tag_frequencies, vocabulary_figures
from tagging_assets.core.selection import collector_paused, write_manifest
from tagging_assets.defs.metadata import TAGS_LISTED, cost_metadata, failing_clearly, markdown_table
from tagging_assets.defs.partitions import BATCH_PARTITIONS, batch_partitions
from tagging_assets.defs.resources import BatchApiResource, QdrantCacheResource, TaggingResource

GROUP = "tagging"
OWNERS = ["team:ai-data"]
API_POOL = "tagging_api"
"""The Dagster pool of the step that calls the API; its limit (``dagster.yaml``) is how many runs may at once."""


@asset(
    group_name=GROUP,
    kinds={"qdrant"},
    owners=OWNERS,
    description="The transcripts in the cache that need tags now: never tagged, changed since, tagged with "
    "another prompt or model, tagged by the local gateway's offline tagger while a real API is configured, or "
    "failed within their retry budget. A manifest on disk (point ids, content hashes, attempts), not the "
    "transcripts: the request files are their only copy.",
)
def cached_transcripts(
    context: AssetExecutionContext, qdrant: QdrantCacheResource, batch_api: BatchApiResource, tagging: TaggingResource
) -> SelectedItems:
    report = SelectionReport()
    plan = tagging.plan(batch_api)
    manifest = plan.settings.work_dir.resolve() / "selections" / f"{context.run.run_id}.jsonl"
    with failing_clearly(), qdrant.open() as cache, collector_paused():
        count = write_manifest(steps.select(cache, plan, report=report), manifest)
    context.add_output_metadata(
        {
            "collection": qdrant.collection,
            "points_scanned": report.scanned,
            "items_selected": count,
            "items_truncated": report.truncated,
            "items_given_up": report.skipped.get("given-up", 0),
            "selected_by_reason": MetadataValue.json(report.selected),
            "skipped_by_reason": MetadataValue.json(report.skipped),
            "manifest": MetadataValue.path(str(manifest)),
            "manifest_bytes": manifest.stat().st_size,
        }
    )
    return SelectedItems(manifest=manifest, items=count, model=plan.settings.model)


@asset(
    group_name=GROUP,
    kinds={"jsonl"},
    owners=OWNERS,
    description="Batch API input: one JSONL request per selected transcript, read again from the cache by the "
    "manifest's point ids (one changed since selection waits for the next), asking for tags and a summary "
    "with Structured Outputs, sharded to the API's limits (50,000 requests, 200 MB a file), each shard with "
    "an index for write-back. The request options (max_completion_tokens, temperature, reasoning effort) come "
    "from the model's profile; a model the API says shuts down within a batch's 24 hours is refused. Carries the "
    "input tokens (exact with tiktoken when its encoding is on the machine) and the expected cost at batch and "
    "realtime prices.",
)
def batch_input_jsonl(
    context: AssetExecutionContext,
    qdrant: QdrantCacheResource,
    batch_api: BatchApiResource,
    tagging: TaggingResource,
    cached_transcripts: SelectedItems,
) -> BatchInput:
    plan = tagging.plan(batch_api)
    settings = plan.settings
    output = settings.work_dir.resolve() / "submissions" / context.run.run_id / "requests.jsonl"
    changed = Counter[str]()
    with failing_clearly():
        options = plan.request_options
        if warning := batch_api.get_api(quick=True).model_warning(settings.model, now=time.time()):
            context.log.warning(warning)
        with qdrant.open() as cache:
            plan = steps.with_library_tags(cache, plan)
            items = steps.selected_again(
                cache, plan, cached_transcripts.manifest, changed=lambda: changed.update(["changed"])
            )
            shards = steps.write_requests(items, output, plan=plan)
    requests = sum(shard.requests for shard in shards)
    input_tokens = sum(shard.input_tokens for shard in shards)
    context.add_output_metadata(
        {
            "shards": len(shards),
            "requests": requests,
            "items_changed_since_selection": changed["changed"],
            "bytes": sum(shard.bytes for shard in shards),
            "input_tokens": input_tokens,
            "token_count": plan.counter.method,
            "largest_request_tokens": max((shard.largest_request_tokens for shard in shards), default=0),
            "estimated_output_tokens": plan.expected_output_tokens(requests),
            "endpoint": settings.endpoint,
            "request_options": MetadataValue.json(asdict(options)),
            "prices": plan.profile.source or plan.unknown_price,
            "vocabulary": settings.vocabulary,
            "library_tags_in_prompt": len(plan.preferred_tags),
            "cached_prefix_tokens": plan.cached_prefix_tokens,
            **cost_metadata(plan.expected_cost(input_tokens, requests), plan.unknown_price, "estimated_"),
            "files": markdown_table(
                [{"file": str(s.path), "requests": s.requests, "bytes": s.bytes} for s in shards],
                ["file", "requests", "bytes"],
            ),
        }
    )
    return BatchInput(submission_id=context.run.run_id, shards=tuple(shards))


@asset(
    group_name=GROUP,
    kinds={"openai"},
    owners=OWNERS,
    pool=API_POOL,
    description="The jobs, one per shard, in the mode TAGGING_MODE names. A batch: the shard uploaded and a batch "
    "created at the Batch API (or the one already made from the same bytes found again). A realtime or flex job: "
    "its requests sent here, within the rate limits, answers written as a batch's result files. Each job's items "
    "are marked pending in the cache and a partition is added per job for the sensor to watch. Its pool bounds "
    "how many runs call the API at once.",
)
def openai_batch_job(
    context: AssetExecutionContext,
    qdrant: QdrantCacheResource,
    batch_api: BatchApiResource,
    tagging: TaggingResource,
    batch_input_jsonl: BatchInput,
) -> Submission:
    shards = batch_input_jsonl.shards
    plan = tagging.plan(batch_api)

    def add_partition(batch: SubmittedBatch) -> None:
        context.instance.add_dynamic_partitions(BATCH_PARTITIONS, [batch.batch_id])

    with failing_clearly(), qdrant.open() as cache:
        submission = steps.submit(
            shards,
            plan=plan,
            api=tagging.jobs(batch_api),
            records=tagging.records(),
            cache=cache,
            submission_id=batch_input_jsonl.submission_id,
            warn=context.log.warning,
            submitted=add_partition,
        )
    submitted, deferred = submission.batches, submission.deferred
    estimate = plan.expected_cost(
        sum(shard.input_tokens for shard in shards), sum(shard.requests for shard in shards), mode=submission.mode
    )
    context.add_output_metadata(
        {
            "provider": batch_api.provider,
            "mode": submission.mode,
            "model": plan.request_options.model,
            "endpoint": plan.settings.endpoint,
            "batches": len(submitted),
            "requests": sum(batch.requests for batch in submitted),
            "deferred_shards": len(deferred),
            "deferred_requests": sum(shard.requests for shard in deferred),
            "batch_ids": MetadataValue.json([batch.batch_id for batch in submitted]),
            **cost_metadata(estimate, plan.unknown_price, "estimated_"),
            "submitted": markdown_table(
                [batch.to_json() for batch in submitted], ["batch_id", "requests", "input_file"]
            ),
        }
    )
    if not submitted and not deferred:
        context.log.info("nothing needs tags: no batch submitted, nothing spent")
    return submission


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
) -> DownloadedFiles:
    batch_id = context.partition_key
    plan = tagging.plan(batch_api)
    records = tagging.records()
    api = tagging.jobs(batch_api)
    target = plan.settings.work_dir.resolve() / "results" / batch_id / "output.jsonl"
    with failing_clearly():
        status = status_naming_its_api(api, records, batch_id)
        files = api.download(status, target)
        record = records.load(batch_id)
    mode = record.mode
    metadata: dict[str, object] = {
        "batch_id": batch_id,
        "mode": mode,
        "provider": batch_api.provider,
        "model": status.model or record.model,
        "endpoint": status.endpoint,
        "status": status.status,
        "requests_total": status.total,
        "requests_completed": status.completed,
        "requests_failed": status.failed,
        "output_bytes": files.output_bytes,
        "error_bytes": files.errors_bytes,
    }
    if usage := status.usage:
        metadata |= {
            "input_tokens": usage.input_tokens,
            "cached_input_tokens": usage.cached_tokens,
            "output_tokens": usage.output_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        }
        metadata |= cost_metadata(plan.cost_of(usage, status.model, mode=mode), plan.unknown_price, "actual_")
    if files.output:
        metadata["output_file"] = MetadataValue.path(str(files.output))
    if files.errors:
        metadata["errors_file"] = MetadataValue.path(str(files.errors))
    if url := batch_api.dashboard_url(batch_id):
        metadata["dashboard"] = MetadataValue.url(url)
    if resent := status.metadata.get("resent_after_crash"):
        metadata["requests_resent_after_a_crash"] = int(resent)
    if status.errors:
        metadata["validation_errors"] = MetadataValue.json([error.to_json() for error in status.errors])
    context.add_output_metadata(metadata)
    return files


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
    batch_results_raw: DownloadedFiles,
) -> WritebackSummary:
    plan = tagging.plan(batch_api)
    records = tagging.records()
    with failing_clearly(), qdrant.open() as cache:
        record = records.load(batch_results_raw.batch_id)
        batch = status_naming_its_api(tagging.jobs(batch_api), records, record.batch_id)
        summary = steps.write_back(cache, plan, record=record, batch=batch, files=batch_results_raw)
        frequencies, tagged_videos = tag_frequencies(cache)
        figures = vocabulary_figures(cache, frequencies, tagged_videos)
    written = summary.tags_written
    context.add_output_metadata(
        {
            "provider": batch_api.provider,
            "mode": record.mode,
            "model": record.model,
            "base_url": record.base_url or "",
            "status": summary.status,
            "items_tagged": summary.tagged,
            "items_failed": summary.failed,
            "items_with_few_tags": summary.few_tags,
            "tags_dropped": summary.dropped_tags,
            "failure_rate": MetadataValue.float(round(summary.failed / (summary.submitted or 1), 4)),
            "input_tokens": summary.input_tokens,
            "cached_input_tokens": summary.cached_input_tokens,
            "output_tokens": summary.output_tokens,
            "reasoning_tokens": summary.reasoning_tokens,
            **cost_metadata(summary.cost, plan.unknown_price),
            "failures_by_reason": markdown_table(
                [{"reason": r, "count": c} for r, c in summary.failed_by_reason.items()], ["reason", "count"]
            ),
            "sample_tags": markdown_table([row.to_json() for row in summary.sample], ["custom_id", "tags", "summary"]),
            "tags_in_this_batch": markdown_table(
                [
                    {"tag": tag, "videos in this batch": count, "videos in the cache": frequencies[tag]}
                    for tag, count in list(written.items())[:TAGS_LISTED]
                ],
                ["tag", "videos in this batch", "videos in the cache"],
            ),
            "tags_only_in_this_batch": MetadataValue.json(
                sorted(tag for tag, count in written.items() if frequencies[tag] == count)
            ),
            "top_tags_in_cache": markdown_table(
                [{"tag": tag, "videos": count} for tag, count in frequencies.most_common(TAGS_LISTED)],
                ["tag", "videos"],
            ),
            "distinct_tags_in_cache": len(frequencies),
            "tagged_videos_in_cache": tagged_videos,
            "single_video_tags_in_cache": figures.single_video_tags,
            "single_video_tag_share": MetadataValue.float(round(figures.single_video_tag_share, 4)),
            "videos_sharing_a_tag": figures.videos_sharing_a_tag,
            "videos_sharing_a_tag_share": MetadataValue.float(round(figures.videos_sharing_a_tag_share, 4)),
        }
    )
    return summary
