"""A Gemini request line sent as a realtime call, and its answer written as the Gemini batch's result line."""

import json
from dataclasses import dataclass

from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import GENERATE_CONTENT, MESSAGES
from tagging_assets.core.results import outcome_of
from tagging_assets.core.thinking import Thinking
from tagging_assets.wire import BUILDERS, read_result
from tagging_assets.wire.realtime import (
    BatchFileLines,
    GeminiResultLines,
    MessageBatchLines,
    realtime_call,
    result_lines_for,
)

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})
OPTIONS = RequestOptions(model="gemini-2.5-flash", max_output_tokens=1_324, thinking=Thinking(budget=1_024))


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes
    request_id: str | None = None


@dataclass(frozen=True)
class Called:
    custom_id: str


def _line(user: str = "Title: x\n\ntext") -> bytes:
    request = BUILDERS[GENERATE_CONTENT].request("youtube:a", OPTIONS, "Tag it.", user)
    return request.model_dump_json(exclude_none=True).encode()


def test_a_gemini_line_calls_generate_content_with_its_request_and_counts_its_input_only():
    """Gemini's tokens-per-minute limit counts input tokens, so the output limit (1,324 here) is not counted."""
    line = _line()
    call = realtime_call(line)
    assert (call.custom_id, call.endpoint) == ("youtube:a", GENERATE_CONTENT)
    assert call.body == json.loads(line)["request"]
    assert call.rate_tokens(line) == len(line) // 4 < 1_324
    long_line = _line("x" * 40_000)
    assert realtime_call(long_line).rate_tokens(long_line) == len(long_line) // 4


def test_each_endpoint_gets_its_own_providers_result_lines():
    assert isinstance(result_lines_for(GENERATE_CONTENT), GeminiResultLines)
    assert isinstance(result_lines_for(MESSAGES), MessageBatchLines)
    assert isinstance(result_lines_for("/v1/responses"), BatchFileLines)


def test_an_answer_is_written_as_the_batchs_response_line_and_reads_back_as_the_reply():
    body = {
        "candidates": [{"content": {"parts": [{"text": REPLY}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 30, "thoughtsTokenCount": 12},
        "modelVersion": "gemini-2.5-flash",
    }
    lines = GeminiResultLines()
    line, is_error = lines.answered(Called("youtube:a"), Answer(200, json.dumps(body).encode()))
    assert not is_error and json.loads(line) == {"key": "youtube:a", "response": body}
    assert lines.custom_id_of(line) == "youtube:a"
    outcome = outcome_of(read_result(line))
    assert outcome.ok and outcome.usage.output_tokens == 42 and outcome.usage.reasoning_tokens == 12


def test_googles_error_body_becomes_the_error_line_and_is_retried_as_its_status_says():
    error = {"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED", "details": []}}
    lines = GeminiResultLines()
    line, is_error = lines.answered(Called("youtube:a"), Answer(429, json.dumps(error).encode()))
    assert is_error
    assert json.loads(line) == {
        "key": "youtube:a",
        "error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"},
    }
    outcome = outcome_of(read_result(line))
    assert not outcome.ok and outcome.retryable
    assert outcome.error == "http_429: Resource exhausted."
    bad = GeminiResultLines().answered(Called("youtube:b"), Answer(400, b'{"error": {"code": 400, "message": "x"}}'))[0]
    assert not outcome_of(read_result(bad)).retryable


def test_a_body_that_is_not_googles_error_is_kept_in_the_message():
    line, is_error = GeminiResultLines().answered(Called("youtube:a"), Answer(502, b"<html>Bad Gateway</html>"))
    result = read_result(line)
    assert is_error and result.status_code == 502
    assert result.error_message is not None and "Bad Gateway" in result.error_message


def test_an_unanswered_call_is_an_error_line_that_never_reached_http():
    lines = GeminiResultLines()
    line = lines.unanswered(Called("youtube:a"), code="connection_error", message="gave up after 5 attempts")
    assert lines.custom_id_of(line) == "youtube:a"
    outcome = outcome_of(read_result(line))
    assert not outcome.ok and outcome.error == "connection_error: gave up after 5 attempts"
