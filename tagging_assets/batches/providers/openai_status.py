"""OpenAI's ``Batch`` and ``Model`` read in the library's terms: nothing past the OpenAI implementation sees the
SDK's types."""

from __future__ import annotations

from datetime import UTC, datetime

from openai.types import Batch, Model

from tagging_assets.core.contracts import BatchProblem, BatchStatus, TokenUsage
from tagging_assets.core.errors import ConfigError

COMPLETION_WINDOW_SECONDS = 24 * 3600


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
        in_progress_at=batch.in_progress_at,
        finalizing_at=batch.finalizing_at,
        finished_at=batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at,
        metadata=dict(batch.metadata or {}),
        model=batch.model,
        endpoint=batch.endpoint,
        usage=_usage(batch),
    )


def _usage(batch: Batch) -> TokenUsage | None:
    usage = batch.usage
    if usage is None or (usage.input_tokens == 0 and usage.output_tokens == 0):
        return None
    return TokenUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.input_tokens_details.cached_tokens if usage.input_tokens_details else 0,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens if usage.output_tokens_details else 0,
    )


def shutdown_warning(model: str, listed: Model, *, now: float) -> str | None:
    """A warning when the API lists ``model`` with a shutdown (or deprecation) date; a ``ConfigError`` when the
    date falls inside the 24 hours a batch submitted now may run; None when nothing is announced."""
    shutdown = _date_of(listed, "shutdown_date") or _date_of(listed, "deprecation_date")
    if shutdown is None:
        return None
    left = shutdown.timestamp() - now
    when = shutdown.date().isoformat()
    if left <= COMPLETION_WINDOW_SECONDS:
        raise ConfigError(
            f"{model} shuts down on {when}, inside the 24-hour window of a batch submitted now; "
            "choose a current model (TAGGING_MODEL)"
        )
    return f"{model} shuts down on {when} (in {left / 86_400:.0f} days); plan a move to a current model"


def _date_of(model: Model, field: str) -> datetime | None:
    value = getattr(model, field, None) or (model.model_extra or {}).get(field)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
