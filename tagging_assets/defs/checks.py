"""Asset checks that guard each hand-off: nothing bad is uploaded, nothing submitted vanishes,
and what the cache holds is what the batch returned."""

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from tagging_assets.core.audit import (
    account_for_results,
    audit_input_files,
    disagreements,
    format_problems,
)
from tagging_assets.core.contracts import BatchInput, DownloadedFiles
from tagging_assets.core.report import near_duplicate_groups, tag_frequencies, vocabulary_figures
from tagging_assets.core.shards import read_index
from tagging_assets.defs.assets import batch_input_jsonl, batch_results_raw, tagged_points
from tagging_assets.defs.metadata import TAGS_LISTED
from tagging_assets.defs.partitions import batch_partitions
from tagging_assets.defs.resources import QdrantCacheResource, TaggingResource

_Check = TypeVar("_Check", bound=Callable[..., AssetCheckResult])


def per_batch_check(**spec: Any) -> Callable[[_Check], AssetChecksDefinition]:
    """An asset check with one result per batch partition. Per-partition checks are what a batch-per-partition
    design needs, and Dagster marks them preview; its warning says nothing a user can act on, so it is silenced
    while these checks are defined, and nowhere else."""

    def define(check: _Check) -> AssetChecksDefinition:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
            )
            return asset_check(partitions_def=batch_partitions, **spec)(check)

    return define


@asset_check(
    asset=batch_input_jsonl,
    blocking=True,
    description="Every line of every input file is a valid Batch API request, custom_ids are unique, each file "
    "holds one model and stays within 50,000 requests and 200 MB. Blocking: nothing invalid is uploaded.",
)
def batch_input_is_valid(batch_input_jsonl: BatchInput) -> AssetCheckResult:
    audit = audit_input_files(shard.path for shard in batch_input_jsonl.shards)
    return AssetCheckResult(
        passed=not audit.problems,
        metadata={
            "files": audit.files,
            "requests": audit.requests,
            "bytes": audit.bytes,
            "problems": MetadataValue.json(audit.problems),
        },
    )


@per_batch_check(
    asset=batch_results_raw,
    description="Every custom_id the batch was given appears exactly once across its output and error files, "
    "and no other id does. A batch that ended unfinished with no lines at all (one that failed validation, a "
    "Gemini job that expired or was cancelled before it ran) is a warning: its items are released.",
)
def every_request_accounted_for(
    context: AssetCheckExecutionContext, tagging: TaggingResource, batch_results_raw: DownloadedFiles
) -> AssetCheckResult:
    record = tagging.records().load(context.partition_key)
    accounting = account_for_results(
        read_index(Path(record.index_file)), batch_results_raw.output, batch_results_raw.errors
    )
    ended_without_results = (
        batch_results_raw.status != "completed"
        and batch_results_raw.output is None
        and batch_results_raw.errors is None
    )
    return AssetCheckResult(
        passed=accounting.complete,
        severity=AssetCheckSeverity.WARN if ended_without_results else AssetCheckSeverity.ERROR,
        metadata={
            "submitted": accounting.submitted,
            "in_output": accounting.in_output,
            "in_errors": accounting.in_errors,
            "missing": len(accounting.missing),
            "repeated": len(accounting.repeated),
            "unknown": len(accounting.unknown),
            "unreadable_lines": len(accounting.unreadable),
            "examples": MetadataValue.json(
                {
                    "missing": accounting.missing[:10],
                    "repeated": accounting.repeated[:10],
                    "unknown": accounting.unknown[:10],
                }
            ),
        },
    )


@per_batch_check(
    asset=tagged_points,
    description="Every point this batch tagged has 3-5 lowercase, hyphenated, non-generic tags. Points whose "
    "reply left fewer than three usable tags (few_tags) are reported, and do not fail the check.",
)
def tags_follow_format(context: AssetCheckExecutionContext, qdrant: QdrantCacheResource) -> AssetCheckResult:
    with qdrant.open() as cache:
        report = format_problems(cache, context.partition_key)
    return AssetCheckResult(
        passed=not report.problems,
        metadata={
            "points_checked": report.tagged,
            "problems": MetadataValue.json(report.problems),
            "few_tags": len(report.few_tags),
            "few_tags_examples": MetadataValue.json(report.few_tags[:10]),
        },
    )


@per_batch_check(
    asset=tagged_points,
    additional_ins={"batch_results_raw": AssetIn(key=batch_results_raw.key)},
    description="The cache agrees with the batch's results: each success is the point's tags and summary, and "
    "every other submitted item is marked failed with its reason.",
)
def cache_agrees_with_results(
    context: AssetCheckExecutionContext,
    qdrant: QdrantCacheResource,
    tagging: TaggingResource,
    batch_results_raw: DownloadedFiles,
) -> AssetCheckResult:
    batch_id = context.partition_key
    record = tagging.records().load(batch_id)
    index = read_index(Path(record.index_file))
    aliases = tagging.aliases()
    with qdrant.open() as cache:
        found = disagreements(
            cache,
            batch_id,
            index,
            batch_results_raw.output,
            batch_results_raw.errors,
            aliases=aliases,
            allowed=tagging.allowed_tags(),
        )
    return AssetCheckResult(
        passed=not found, metadata={"points_compared": len(index), "disagreements": MetadataValue.json(found)}
    )


@per_batch_check(
    asset=tagged_points,
    description="The vocabulary stays coherent (few single-video tags, no near-duplicates): warns, without failing "
    "the asset, when the share of the cache's tags on a single video passes TAGGING_MAX_SINGLE_VIDEO_TAG_SHARE or "
    "the groups of tags that are likely the same pass TAGGING_MAX_NEAR_DUPLICATE_GROUPS; `tagging-assets tags "
    "merge` repairs them.",
)
def tag_vocabulary_coherent(qdrant: QdrantCacheResource, tagging: TaggingResource) -> AssetCheckResult:
    aliases = tagging.aliases()
    with qdrant.open() as cache:
        frequencies, tagged_videos = tag_frequencies(cache)
        figures = vocabulary_figures(cache, frequencies, tagged_videos)
    groups = near_duplicate_groups(frequencies, aliases=aliases)
    too_scattered = figures.single_video_tag_share > tagging.max_single_video_tag_share
    too_many_groups = len(groups) > tagging.max_near_duplicate_groups
    return AssetCheckResult(
        passed=not (too_scattered or too_many_groups),
        severity=AssetCheckSeverity.WARN,
        metadata={
            **figures.to_json(),
            "max_single_video_tag_share": tagging.max_single_video_tag_share,
            "near_duplicate_groups": len(groups),
            "max_near_duplicate_groups": tagging.max_near_duplicate_groups,
            "near_duplicates": MetadataValue.json([group.to_json() for group in groups[:TAGS_LISTED]]),
        },
    )
