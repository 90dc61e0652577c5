"""Gemini's client as the library makes it, and what its failures become, through the real google-genai SDK."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from google.genai import errors

from tagging_assets.batches.providers.dispatch import (
    IMPLEMENTATIONS,
    RealtimeOptions,
    batch_api_of,
    realtime_sender,
    sdk_client,
)
from tagging_assets.batches.providers.gemini_batches import (
    FILES_KEPT_SECONDS,
    RETRIED_STATUS_CODES,
    GeminiBatches,
    GeminiRealtime,
)
from tagging_assets.batches.retries import backoff, left_outcome_unknown
from tagging_assets.core.contracts import BatchStatus
from tagging_assets.core.errors import BatchApiError
from tagging_assets.core.executor import ConnectionLost, RealtimeRequest

UNREACHABLE = "http://127.0.0.1:9"


def test_the_client_retries_408_429_and_5xx_as_often_as_asked_within_its_timeout():
    client = sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key", max_retries=3, timeout=12.5)
    options = client._api_client._http_options
    assert options.base_url == UNREACHABLE
    assert options.timeout == 12_500
    assert options.retry_options is not None
    assert (options.retry_options.attempts, options.retry_options.http_status_codes) == (4, RETRIED_STATUS_CODES)


def test_a_genai_client_is_dispatched_to_gemini_s_batch_api():
    client = sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key")
    assert IMPLEMENTATIONS["gemini"].sdk == type(client).__module__.partition(".")[0] == "google"
    api = batch_api_of(client, "openai")
    assert isinstance(api, GeminiBatches) and api.provider == "gemini"
    assert api.base_url == UNREACHABLE


def test_an_unreachable_api_is_one_line_naming_the_variable_to_check():
    api = batch_api_of(sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key", max_retries=0), "gemini")
    with pytest.raises(BatchApiError) as raised:
        api.status("batches/abc")
    assert str(raised.value) == (
        "cannot reach Gemini's API (check GOOGLE_GEMINI_BASE_URL, or start `tagging-assets gateway`)"
    )


def test_a_realtime_call_that_cannot_connect_is_a_lost_connection_for_the_executor_to_retry():
    client = sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key")
    send = realtime_sender(client, "gemini", RealtimeOptions(model="gemini-2.5-flash-lite", timeout=5))
    assert isinstance(send, GeminiRealtime)
    line = {"key": "item-1", "request": {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}}
    with pytest.raises(ConnectionLost):
        send(RealtimeRequest(custom_id="item-1", line=json.dumps(line).encode(), rate_tokens=1))


def test_a_gemini_realtime_sender_needs_the_job_s_model():
    client = sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key")
    with pytest.raises(ValueError, match="names no model"):
        realtime_sender(client, "gemini", RealtimeOptions())


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (errors.ServerError(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}), True),
        (errors.ServerError(500, {"error": {"code": 500, "status": "INTERNAL"}}), True),
        (errors.ClientError(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}), True),
        (errors.ClientError(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}), False),
        (errors.ClientError(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (ValueError("a bug"), False),
    ],
)
def test_a_google_failure_leaves_the_outcome_unknown_only_where_the_server_may_have_acted(error, unknown):
    assert left_outcome_unknown(error) is unknown


def test_a_responses_file_expires_48_hours_after_the_job_ends_and_inline_responses_never():
    api = GeminiBatches(sdk_client("gemini", base_url=UNREACHABLE, api_key="test-key"))
    now = time.time()
    ended = BatchStatus(
        batch_id="batches/x",
        status="completed",
        total=1,
        completed=1,
        failed=0,
        progress_pct=100.0,
        output_file_id="files/batch-results-x",
        error_file_id=None,
        created_at=int(now) - 3 * 86_400,
        finished_at=int(now) - FILES_KEPT_SECONDS + 3600,
    )
    assert 3599 < (api.output_expires_in(ended, now=now) or 0) <= 3600
    assert api.output_expires_in(ended.model_copy(update={"output_file_id": None}), now=now) is None


def test_a_create_refused_with_429_waits_the_retry_delay_google_asks_for():
    """Google sends no retry-after header; the wait is the body's RetryInfo, which a create retried too soon would
    spend its attempts ignoring."""
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]
    refused = errors.ClientError(
        429, {"error": {"code": 429, "message": "x", "status": "RESOURCE_EXHAUSTED", "details": details}}
    )
    assert backoff(0, refused) == 30.0
    assert backoff(0, errors.ClientError(429, {"error": {"code": 429, "message": "x"}})) == 0.5
