"""Classifying result lines: one outcome per request, every failure with its reason."""

import json

import pytest

from tagging_assets.core.results import outcome_of
from tagging_assets.core.wire import read_result

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
        (_line(content=json.dumps({"tags": ["Bad Tag", "b", "c"], "summary": "s"})), "schema_violation", True),
        (_line(content=json.dumps({"tags": ["a", "b"], "summary": "s"})), "schema_violation", True),
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
