"""A Gemini batch job's raw JSON (a long-running Operation named ``batches/...``) read in the library's terms.

The raw JSON, not the SDK's ``BatchJob``: google-genai 3.6.1 maps neither ``metadata.batchStats`` (the request
counts) nor the Operation's ``error`` (why a job failed) for the Developer API (``_BatchJob_from_mldev``), and
the library needs both. Nothing past the Gemini implementation sees these shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tagging_assets.core.contracts import BatchProblem, BatchStatus
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.wire.gemini import RPC_CODES

STATUSES = {
    "PENDING": "validating",
    "RUNNING": "in_progress",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "CANCELLING": "cancelling",
    "EXPIRED": "expired",
}
"""A job's state, without its ``JOB_STATE_`` (the SDK's names) or ``BATCH_STATE_`` (the wire's) prefix, as the
library names statuses. An unknown state reads as still in progress, so the job is followed rather than
processed early."""
DISPLAY_NAME_PREFIX = "tagging-assets:"
"""A job's display name is this and the submission key: how a job is found again without the work directory."""


def display_name_of(submission_key: str) -> str:
    return f"{DISPLAY_NAME_PREFIX}{submission_key}"


def state_of(operation: Mapping[str, Any]) -> str:
    """The job's state without its prefix (``SUCCEEDED``), whichever naming the API used."""
    state = str(_metadata(operation).get("state") or "")
    return state.removeprefix("JOB_STATE_").removeprefix("BATCH_STATE_")


def display_name(operation: Mapping[str, Any]) -> str:
    return str(_metadata(operation).get("displayName") or "")


def job_status(operation: Mapping[str, Any]) -> BatchStatus:
    """A job in the library's terms. Its counts come from ``batchStats`` (int64s, which proto JSON writes as
    strings); a failed job's ``error`` becomes its one ``BatchProblem``, where other providers' validation errors
    are read."""
    metadata = _metadata(operation)
    stats = metadata.get("batchStats") or {}
    total = _count(stats, "requestCount")
    completed = _count(stats, "successfulRequestCount")
    failed = _count(stats, "failedRequestCount")
    output = metadata.get("output") or {}
    error = operation.get("error")
    problems = (_problem(error),) if isinstance(error, dict) else ()
    model = str(metadata.get("model") or "").removeprefix("models/")
    return BatchStatus(
        batch_id=str(operation.get("name") or ""),
        status=STATUSES.get(state_of(operation), "in_progress"),
        total=total,
        completed=completed,
        failed=failed,
        progress_pct=round(100 * (completed + failed) / total, 1) if total else 0.0,
        output_file_id=output.get("responsesFile") or None,
        error_file_id=None,
        errors=problems,
        created_at=_timestamp(metadata.get("createTime")) or 0,
        finished_at=_timestamp(metadata.get("endTime")),
        model=model or None,
        endpoint=GENERATE_CONTENT,
    )


def inline_responses(operation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The job's inline results (a job created with its requests inline), in input order."""
    output = _metadata(operation).get("output") or {}
    responses = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
    return [response for response in responses if isinstance(response, dict)]


def result_line(inline: Mapping[str, Any]) -> dict[str, Any]:
    """An inline result as a results file's line, ``{"key", "response"}`` or ``{"key", "error"}``: the key is
    the one the submission put in the request's ``metadata``, so one reader reads both kinds of job."""
    key = str((inline.get("metadata") or {}).get("key") or "")
    if inline.get("error") is not None:
        return {"key": key, "error": inline["error"]}
    return {"key": key, "response": inline.get("response") or {}}


def _metadata(operation: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = operation.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _count(stats: Mapping[str, Any], name: str) -> int:
    value = stats.get(name)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def _problem(error: Mapping[str, Any]) -> BatchProblem:
    number = error.get("code")
    named = RPC_CODES.get(number) if isinstance(number, int) else None
    code = error.get("status") or named or (str(number) if number is not None else None)
    return BatchProblem(code=code, message=str(error.get("message") or ""))


def _timestamp(value: object) -> int | None:
    """An RFC 3339 time (``2026-12-06T20:09:05.123456789Z``; pydantic reads nanoseconds) as Unix seconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(_RFC_3339.validate_python(value).timestamp())
    except ValidationError:
        return None


_RFC_3339: TypeAdapter[datetime] = TypeAdapter(datetime)
