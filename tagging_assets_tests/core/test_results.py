"""Classifying result lines: one outcome per request, every failure with its reason."""

import json

import pytest

from tagging_assets.core.contracts import TokenUsage
from tagging_assets.core.results import outcome_of
from tagging_assets.wire import read_result

GOOD = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})


def _line(content=GOOD, status=200, finish_reason="stop", refusal=None, error=None, response=True):
    body = {
        "choices": [{"message": {"content": content, "refusal": refusal}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20},
    }
    if status != 200:
        body = {"error": {"message": "bad things", "type": "server_error"}}
    return read_result(
        json.dumps(
            {
                "custom_id": "youtube:x",
                "response": {"status_code": status, "request_id": "r", "body": body} if response else None,
                "error": error,
            }
        )
    )


def test_a_valid_reply_is_a_success_with_its_tokens():
    outcome = outcome_of(_line())
    assert outcome.ok and outcome.output.tags == ["vector-search", "hnsw", "recall"]
    assert (outcome.usage.input_tokens, outcome.usage.output_tokens) == (100, 20)


@pytest.mark.parametrize(
    ("line", "reason", "retryable"),
    [
        (_line(status=500), "http_500", True),
        (_line(status=429), "http_429", True),
        (_line(status=400), "http_400", False),
        (_line(response=False, error={"code": "batch_expired", "message": "late"}), "batch_expired", True),
        (_line(content="{not json"), "invalid_json", True),
        (_line(content='{"tags": "a, b"}'), "schema_violation", True),
        (_line(content=json.dumps({"tags": [1, 2, 3], "summary": "s"})), "schema_violation", True),
        (_line(content=json.dumps({"tags": ["a", "b", "c"], "summary": ""})), "schema_violation", True),
        (_line(finish_reason="length"), "truncated", True),
        (_line(content=None, refusal="I can't"), "refusal", True),
        (_line(content=None), "empty_reply", True),
    ],
)
def test_every_kind_of_failure_is_one_failed_outcome_with_its_reason(line, reason, retryable):
    outcome = outcome_of(line)
    assert not outcome.ok
    assert outcome.error.split(":")[0] == reason
    assert outcome.retryable is retryable


def _response_line(body: dict) -> object:
    return read_result(json.dumps({"custom_id": "youtube:r", "response": {"status_code": 200, "body": body}}))


USAGE = {
    "input_tokens": 1_200,
    "input_tokens_details": {"cached_tokens": 1_024},
    "output_tokens": 90,
    "output_tokens_details": {"reasoning_tokens": 40},
}


def test_a_response_is_read_from_its_message_item_after_the_reasoning():
    body = {
        "object": "response",
        "status": "completed",
        "model": "gpt-5-mini-2025-08-07",
        "output": [
            {"type": "reasoning", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": GOOD}]},
        ],
        "usage": USAGE,
    }
    outcome = outcome_of(_response_line(body))
    assert outcome.ok and outcome.model_snapshot == "gpt-5-mini-2025-08-07"
    assert outcome.usage == TokenUsage(input_tokens=1200, output_tokens=90, cached_tokens=1024, reasoning_tokens=40)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "I can't"}]}],
            },
            "refusal",
        ),
        (
            {
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "output": [{"type": "reasoning"}],
            },
            "truncated",
        ),
        ({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}, "output": []}, "empty_reply"),
        ({"status": "failed", "error": {"code": "server_error", "message": "oops"}}, "response_failed"),
    ],
)
def test_a_response_that_is_not_a_reply_fails_with_its_reason(body, reason):
    outcome = outcome_of(_response_line({"object": "response", "usage": USAGE, **body}))
    assert not outcome.ok and outcome.error.split(":")[0] == reason


def test_a_truncated_reply_says_how_much_went_to_reasoning():
    body = {"object": "response", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    outcome = outcome_of(_response_line({**body, "output": [], "usage": {**USAGE, "output_tokens": 40}}))
    assert outcome.error == "truncated: the reply hit its output token limit (40 tokens, 40 of them reasoning)"


def _message_result(result: dict) -> dict:
    return {"custom_id": "youtube-3ax", "result": result}


def _succeeded(content: list, stop_reason: str = "end_turn") -> dict:
    usage = {"input_tokens": 90, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0, "output_tokens": 20}
    message = {"model": "claude-haiku-4-5-20251001", "content": content, "stop_reason": stop_reason, "usage": usage}
    return _message_result({"type": "succeeded", "message": message})


@pytest.mark.parametrize(
    ("line", "error", "retryable"),
    [
        (_succeeded([{"type": "text", "text": GOOD}]), None, True),
        (_succeeded([{"type": "tool_use", "name": "video_tags", "input": json.loads(GOOD)}], "tool_use"), None, True),
        (_succeeded([{"type": "text", "text": GOOD[:30]}], "max_tokens"), "truncated", True),
        (_succeeded([], "refusal"), "refusal", True),
        (
            _message_result(
                {
                    "type": "errored",
                    "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "x"}},
                }
            ),
            "http_400",
            False,
        ),
        (
            _message_result(
                {"type": "errored", "error": {"type": "error", "error": {"type": "overloaded_error", "message": "x"}}}
            ),
            "http_529",
            True,
        ),
        (_message_result({"type": "canceled"}), "batch_cancelled", True),
        (_message_result({"type": "expired"}), "batch_expired", True),
    ],
)
def test_each_message_batch_result_type_is_an_outcome_with_its_reason(line, error, retryable):
    outcome = outcome_of(read_result(json.dumps(line)))
    assert (outcome.error or "").split(":")[0] == (error or "") and outcome.retryable == retryable
    if error is None:
        assert outcome.output.tags == ["vector-search", "hnsw", "recall"]
        assert outcome.usage == TokenUsage(input_tokens=100, output_tokens=20, cached_tokens=10)
        assert outcome.model_snapshot == "claude-haiku-4-5-20251001"
