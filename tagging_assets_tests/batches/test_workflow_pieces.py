"""The batch workflow's pieces on their own: the record store, a batch's status, and calls that must happen once."""

from pathlib import Path

import httpx
import openai
import pytest
from openai.types import Batch

from tagging_assets.batches import retries
from tagging_assets.batches.providers.openai_batches import error_line
from tagging_assets.batches.providers.openai_status import status_of
from tagging_assets.batches.records import BatchRecord, RecordStore
from tagging_assets.batches.retries import backoff, write_once
from tagging_assets.core.errors import BatchError

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/batches")


def _record(batch_id: str = "batch_1", key: str = "key_1") -> BatchRecord:
    return BatchRecord(batch_id, "in.jsonl", "in.index.jsonl", "sha", key, "file_1", 3, "gpt-4o-mini", "v1", "s", 10)


def _batch(status: str, **fields: object) -> Batch:
    return Batch.model_validate(
        {
            "id": "batch_1",
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "created_at": 100,
            "input_file_id": "file_1",
            "status": status,
            **fields,
        }
    )


def test_a_record_reads_back_by_batch_and_by_submission_key(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.save(_record())
    assert store.load("batch_1") == _record()
    assert store.batch_for_key("key_1") == "batch_1"
    assert store.batch_for_key("another_key") is None


def test_a_batch_from_another_work_directory_is_named_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match=r"no record of batch batch_9 in .*set TAGGING_WORK_DIR"):
        RecordStore(tmp_path).load("batch_9")


def test_status_reads_progress_and_problems_from_the_sdks_batch() -> None:
    status = status_of(
        _batch(
            "failed",
            request_counts={"total": 4, "completed": 1, "failed": 1},
            errors={"data": [{"code": "model_not_found", "message": "no such model", "line": 2}]},
        )
    )
    assert (status.status, status.total, status.done, status.progress_pct) == ("failed", 4, 2, 50.0)
    assert status["errors"][0].code == "model_not_found"
    assert status_of(_batch("failed", errors={"data": [{"code": "model_not_found"}]})).missing_reason() == (
        "batch_failed: the batch failed validation (model_not_found)"
    )
    assert status_of(_batch("expired")).missing_reason().startswith("batch_expired: ")


def test_a_batch_is_stuck_only_past_the_limit_in_validating_or_finalizing() -> None:
    validating = status_of(_batch("validating"))
    assert validating.stuck_for(now=150, after_seconds=100) is None
    assert validating.stuck_for(now=250, after_seconds=100) == 150
    finalizing = status_of(_batch("finalizing", finalizing_at=1000))
    assert finalizing.stuck_for(now=1050, after_seconds=100) is None
    assert finalizing.stuck_for(now=1200, after_seconds=100) == 200
    assert status_of(_batch("in_progress")).stuck_for(now=10**9, after_seconds=1) is None


def test_backoff_honours_retry_after_and_otherwise_doubles_up_to_a_cap() -> None:
    limited = openai.RateLimitError(
        "slow down", response=httpx.Response(429, headers={"retry-after": "7"}, request=REQUEST), body=None
    )
    assert backoff(0, limited) == 7
    assert [backoff(attempt, None) for attempt in range(6)] == [0.5, 1, 2, 4, 8, 8]


def test_a_lost_response_is_found_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The create reached the server but its answer was lost: the next step finds it instead of a second call."""
    monkeypatch.setattr(retries.time, "sleep", lambda seconds: None)
    created: list[str] = []

    def create() -> str:
        created.append("batch_1")
        raise openai.APIConnectionError(request=REQUEST)

    assert write_once(create, lambda: created[0] if created else None, what="creating the batch") == "batch_1"
    assert created == ["batch_1"]


def test_a_call_that_never_lands_fails_naming_what_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries.time, "sleep", lambda seconds: None)
    calls = []

    def create() -> str:
        calls.append(1)
        raise openai.InternalServerError(
            "upstream down", response=httpx.Response(503, request=REQUEST), body={"message": "upstream down"}
        )

    with pytest.raises(BatchError, match=r"creating the batch failed 3 times; the last error: .*503"):
        write_once(create, lambda: None, what="creating the batch", attempts=3, describe=error_line)
    assert len(calls) == 3


def test_a_refused_call_is_not_retried() -> None:
    def create() -> str:
        raise openai.BadRequestError("bad", response=httpx.Response(400, request=REQUEST), body=None)

    with pytest.raises(openai.BadRequestError):
        write_once(create, lambda: pytest.fail("a refused call has no effect to look for"), what="creating")
