"""Gemini's batch jobs over the gateway's store and worker: a job is stored as a batch of its model's
``generateContent`` lines and shown as the Operation Gemini answers, its results written as Gemini writes them.

The worker runs a Gemini job as any other batch (every fault and the durability apply); only the names differ:
``validating`` is ``BATCH_STATE_PENDING``, ``in_progress``, ``finalizing`` and ``cancelling`` are
``BATCH_STATE_RUNNING``, and the terminal statuses are SUCCEEDED, FAILED, CANCELLED and EXPIRED. An expired job
has no results, as Gemini documents ("Monitoring job status"); a cancelled one keeps what finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from tagging_assets.core.protocol import GEMINI_TERMINAL_STATES, TERMINAL_STATUSES
from tagging_assets.gateway.gemini import as_google_error
from tagging_assets.gateway.store import BatchRow, GatewayStore

BATCH_ID_PREFIX = "gembatch_"
"""A Gemini job's id in the store; Gemini's name for it is ``batches/`` and the rest."""
FILE_ID_PREFIX = "file-"
"""A file's id in the store; Gemini's name for it is ``files/`` and the rest (lower-case hex, as the SDK's
``t_file_name`` expects of a file's URI)."""
STATES = {
    "validating": "BATCH_STATE_PENDING",
    "in_progress": "BATCH_STATE_RUNNING",
    "finalizing": "BATCH_STATE_RUNNING",
    "cancelling": "BATCH_STATE_RUNNING",
    "completed": "BATCH_STATE_SUCCEEDED",
    "failed": "BATCH_STATE_FAILED",
    "cancelled": "BATCH_STATE_CANCELLED",
    "expired": "BATCH_STATE_EXPIRED",
}
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
JSONL = "application/jsonl"
INVALID_ARGUMENT = 3
RESOURCE_EXHAUSTED = 8
"""google.rpc.Code values, which an Operation's ``error`` carries (no HTTP status, no status name)."""
GEMINI_FILE_PURPOSE = "gemini"
"""How the store marks a file uploaded through Gemini's API."""
GEMINI_RESULTS_PURPOSE = "gemini_results"
"""How the store marks a Gemini job's results file, which only Gemini's routes show."""
GEMINI_INPUT_PURPOSE = "gemini_batch"
"""How the store marks the gateway's converted copy of a Gemini job's input, which no API shows."""
GEMINI_PURPOSES = frozenset({GEMINI_FILE_PURPOSE, GEMINI_RESULTS_PURPOSE, GEMINI_INPUT_PURPOSE})
"""The purposes of the files OpenAI's Files API must not show: they are Gemini's, or the gateway's own."""


def batch_name(store_id: str) -> str:
    return "batches/" + store_id.removeprefix(BATCH_ID_PREFIX)


def batch_store_id(job_id: str) -> str:
    return BATCH_ID_PREFIX + job_id


def file_name(store_id: str) -> str:
    return "files/" + store_id.removeprefix(FILE_ID_PREFIX)


def file_store_id(file_id: str) -> str:
    return FILE_ID_PREFIX + file_id


def is_gemini_batch(batch: dict[str, Any]) -> bool:
    return batch["id"].startswith(BATCH_ID_PREFIX)


def stored_line(number: int, item: dict[str, Any], *, from_file: bool) -> dict[str, Any]:
    """One request as the worker reads it (``custom_id`` and ``body``), with what its result echoes: a file
    line's ``key``, an inline request's ``metadata``. An inline request has no key of its own: the ``key`` its
    metadata carries names it, as a file line's key does (so a fault picks the same request in either source),
    else its place."""
    if from_file:
        key = item.get("key")
        return {"custom_id": str(key) if key is not None else str(number), "body": item["request"], "key": key}
    metadata = item.get("metadata")
    key = metadata.get("key") if isinstance(metadata, dict) else None
    custom_id = str(key) if key is not None else f"request-{number}"
    return {"custom_id": custom_id, "body": item["request"], "metadata": metadata}


def line_record(_custom_id: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """A finished line as stored: Gemini's ``response``, or its ``error`` status."""
    if status == 200:
        return {"response": body}
    return {"error": as_google_error(status, body)["error"]}


def finish(store: GatewayStore, row: BatchRow, final_status: str) -> None:
    """Settle a job in ``final_status``, its finished lines written in input order to one results file, unless it
    expired (Gemini gives an expired job no results)."""
    results_id = None
    counts = row.object["request_counts"]
    if final_status != "expired" and counts["completed"] + counts["failed"]:
        results_id = FILE_ID_PREFIX + hashlib.sha256(f"{row.id}:results".encode()).hexdigest()[:24]
        store.add_generated_file(
            results_id,
            f"{batch_name(row.id)}-results.jsonl",
            (json.dumps(line) for line in _results(store, row)),
            None,
            {"mime_type": JSONL, "generated": True},
            purpose=GEMINI_RESULTS_PURPOSE,
        )
    store.update_batch(
        row.id,
        row.status,
        status=final_status,
        output_file_id=results_id,
        **{f"{final_status}_at": int(time.time())},
    )


def _results(store: GatewayStore, row: BatchRow) -> Iterator[dict[str, Any]]:
    """Each finished line with its key (file source) or metadata (inline source), in input order."""
    from_file = row.object["gemini"]["source"] == "file"
    recorded = store.results(row.id, ok=None)
    result = next(recorded, None)
    with store.content_path(row.object["input_file_id"]).open("rb") as source:
        for number, raw in enumerate(source, start=1):
            if result is None:
                return
            if result.line != number:
                continue
            line = json.loads(raw)
            if from_file:
                yield {"key": line["key"], **result.record}
            else:
                yield {**result.record, **({"metadata": line["metadata"]} if line.get("metadata") else {})}
            result = next(recorded, None)


def operation(batch: dict[str, Any], inlined: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A stored job as the Operation Gemini answers for it; ``inlined`` are an inline job's results, once
    written. ``batchStats`` counts are int64, which proto JSON writes as strings."""
    status, counts, details = batch["status"], batch["request_counts"], batch["gemini"]
    done = STATES[status].replace("BATCH_", "JOB_", 1) in GEMINI_TERMINAL_STATES
    moments = [batch.get(f"{name}_at") for name in ("created", "in_progress", "finalizing", "cancelling")]
    ended_at = next((batch[f"{name}_at"] for name in sorted(TERMINAL_STATUSES) if batch.get(f"{name}_at")), None)
    metadata: dict[str, Any] = {
        "@type": BATCH_TYPE,
        "model": f"models/{details['model']}",
        "displayName": details["displayName"],
        "createTime": iso_time(batch["created_at"]),
        "updateTime": iso_time(max(moment for moment in [*moments, ended_at] if moment)),
        "batchStats": {
            "requestCount": str(counts["total"]),
            "successfulRequestCount": str(counts["completed"]),
            "failedRequestCount": str(counts["failed"]),
            "pendingRequestCount": str(counts["total"] - counts["completed"] - counts["failed"]),
        },
        "state": STATES[status],
        "name": batch_name(batch["id"]),
    }
    if details["source"] == "file":
        metadata["inputConfig"] = {"fileName": details["inputFile"]}
    if ended_at:
        metadata["endTime"] = iso_time(ended_at)
    if batch.get("output_file_id"):
        metadata["output"] = (
            {"responsesFile": file_name(batch["output_file_id"])}
            if details["source"] == "file"
            else {"inlinedResponses": {"inlinedResponses": inlined or []}}
        )
    answer: dict[str, Any] = {"name": batch_name(batch["id"]), "metadata": metadata, "done": done}
    if status == "failed":
        errors = (batch.get("errors") or {}).get("data") or [{"message": "The batch failed."}]
        over_limit = any(error.get("code") == "token_limit_exceeded" for error in errors)
        answer["error"] = {
            "code": RESOURCE_EXHAUSTED if over_limit else INVALID_ARGUMENT,
            "message": "; ".join(error["message"] for error in errors),
        }
    return answer


def iso_time(timestamp: float) -> str:
    """A moment as Google's Timestamps are written: RFC 3339, UTC, with fractions."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
