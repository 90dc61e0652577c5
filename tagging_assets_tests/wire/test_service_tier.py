"""The tier a response was served at, read from each provider's result line: flex may be served at another."""

import json

import pytest

from tagging_assets.wire import read_result

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})


def _chat_line(**top_level):
    body = {
        "model": "gpt-5.4-mini-2026-03-17",
        "choices": [{"message": {"content": REPLY}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20},
        **top_level,
    }
    return json.dumps({"custom_id": "youtube:a", "response": {"status_code": 200, "body": body}, "error": None})


def _responses_line(**top_level):
    body = {
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": REPLY}]}],
        "usage": {"input_tokens": 100, "output_tokens": 20},
        **top_level,
    }
    return json.dumps({"custom_id": "youtube:b", "response": {"status_code": 200, "body": body}, "error": None})


def _message_line(**usage):
    message = {
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": REPLY}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 100, "output_tokens": 20, **usage},
    }
    return json.dumps({"custom_id": "youtube-c", "result": {"type": "succeeded", "message": message}})


@pytest.mark.parametrize(
    ("line", "tier"),
    [
        (_chat_line(service_tier="flex"), "flex"),
        (_chat_line(service_tier="default"), "default"),
        (_chat_line(), None),
        (_chat_line(service_tier=7), None),
        (_responses_line(service_tier="flex"), "flex"),
        (_responses_line(service_tier="auto"), "auto"),
        (_responses_line(), None),
        (_message_line(service_tier="batch"), "batch"),
        (_message_line(service_tier="standard"), "standard"),
        (_message_line(), None),
    ],
)
def test_each_provider_names_the_tier_where_its_response_says(line, tier):
    result = read_result(line)
    assert result.status_code == 200 and result.reply.content == REPLY
    assert result.service_tier == tier
    assert (result.usage.input_tokens, result.usage.output_tokens) == (100, 20)


def test_a_failed_response_keeps_the_tier_it_was_served_at():
    body = {"error": {"message": "bad request"}, "service_tier": "flex", "usage": {"prompt_tokens": 5}}
    line = json.dumps({"custom_id": "youtube:d", "response": {"status_code": 400, "body": body}, "error": None})
    result = read_result(line)
    assert (result.status_code, result.error_message, result.service_tier) == (400, "bad request", "flex")
    assert result.usage.input_tokens == 5


def test_a_line_that_never_reached_http_has_no_tier():
    line = json.dumps({"custom_id": "youtube:e", "response": None, "error": {"code": "batch_expired"}})
    assert read_result(line).service_tier is None
