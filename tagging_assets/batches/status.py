"""A batch's status as the library passes it around, read from the SDK's ``Batch``."""

from __future__ import annotations

from openai.types import Batch

from tagging_assets.core.contracts import BatchProblem, BatchStatus

TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})


def status_of(batch: Batch) -> BatchStatus:
    counts = batch.request_counts
    total = counts.total if counts else 0
    completed = counts.completed if counts else 0
    failed = counts.failed if counts else 0
    errors = batch.errors.data if batch.errors and batch.errors.data else []
    return BatchStatus(
        batch_id=batch.id,
        status=batch.status,
        total=total,
        completed=completed,
        failed=failed,
        progress_pct=round(100 * (completed + failed) / total, 1) if total else 0.0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors=tuple(BatchProblem(code=e.code, message=e.message, line=e.line, param=e.param) for e in errors),
        created_at=batch.created_at,
        finalizing_at=batch.finalizing_at,
        metadata=dict(batch.metadata or {}),
    )


def finished_at(batch: Batch) -> int | None:
    return batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at


def missing_reason(batch: Batch) -> str:
    """Why a submitted request is in neither result file of this batch."""
    if batch.status == "failed":
        codes = ", ".join(sorted({e.code or "unknown" for e in (batch.errors.data or [])})) if batch.errors else ""
        return f"batch_failed: the batch failed validation ({codes or 'no reason given'})"
    return f"missing_from_results: in neither the output nor the error file of a {batch.status} batch"
