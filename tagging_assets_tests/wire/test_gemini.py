"""Gemini's wire format: the request line a shard holds, and every kind of result line read back."""

import json

import pytest
from pydantic import ValidationError

from tagging_assets.core.models import RequestOptions
from tagging_assets.core.prompt import user_message
from tagging_assets.core.protocol import GENERATE_CONTENT
from tagging_assets.core.thinking import Thinking
from tagging_assets.wire import BUILDERS, encoder, read_request, read_result, tagging_json_schema

REPLY = json.dumps({"tags": ["vector-search", "hnsw", "recall"], "summary": "How vector search finds neighbours."})
OPTIONS = RequestOptions(
    model="gemini-2.5-flash-lite", max_output_tokens=300, temperature=0.2, thinking=Thinking(budget=0)
)


def _response(*, parts=None, finish_reason="STOP", usage=None, **top_level):
    candidate = {"content": {"role": "model", "parts": parts or [{"text": REPLY}]}, "finishReason": finish_reason}
    body = {
        "candidates": [candidate],
        "usageMetadata": usage or {"promptTokenCount": 1200, "candidatesTokenCount": 40},
        "modelVersion": "gemini-2.5-flash-lite-001",
        **top_level,
    }
    return json.dumps({"key": "youtube:a", "response": body})


def test_a_request_line_is_gemini_rest_json_with_the_schema_and_no_model():
    line = BUILDERS[GENERATE_CONTENT].request("youtube:a", OPTIONS, "Tag it.", "Title: x\n\ntext")
    dumped = json.loads(line.model_dump_json(exclude_none=True))
    assert list(dumped) == ["key", "request"] and dumped["key"] == "youtube:a"
    request = dumped["request"]
    assert request["contents"] == [{"role": "user", "parts": [{"text": "Title: x\n\ntext"}]}]
    assert request["systemInstruction"] == {"parts": [{"text": "Tag it."}]}
    assert request["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": tagging_json_schema(),
        "maxOutputTokens": 300,
        "temperature": 0.2,
        "thinkingConfig": {"thinkingBudget": 0},
    }
    assert "model" not in json.dumps(request).replace("modelVersion", "")


def test_a_closed_vocabulary_a_level_and_no_temperature_are_spelled_as_gemini_takes_them():
    options = RequestOptions(
        model="gemini-3-flash-preview",
        max_output_tokens=1_300,
        thinking=Thinking(level="minimal"),
        allowed_tags=("hnsw", "recall"),
    )
    config = BUILDERS[GENERATE_CONTENT].request("k", options, "s", "u").model_dump(exclude_none=True)["request"]
    config = config["generationConfig"]
    assert config["thinkingConfig"] == {"thinkingLevel": "MINIMAL"} and "temperature" not in config
    assert config["responseJsonSchema"]["properties"]["tags"]["items"] == {"type": "string", "enum": ["hnsw", "recall"]}


def test_the_fast_encoder_writes_exactly_what_the_builder_would_and_reads_back_as_gemini():
    fast = encoder(GENERATE_CONTENT, OPTIONS, "Tag it.")
    user = user_message('Tïtle "key"', 'quotes " and \\ backslashes, "custom_id" \x00 controls, 日本語')
    custom_id = fast.custom_id("youtube:dQw4w9WgXcQ")
    assert custom_id == "youtube:dQw4w9WgXcQ"
    line = fast.encode(custom_id, user)
    expected = BUILDERS[GENERATE_CONTENT].request(custom_id, OPTIONS, "Tag it.", user)
    assert line.decode() == expected.model_dump_json(exclude_none=True) + "\n"
    request = read_request(line)
    assert (request.custom_id, request.model, request.endpoint) == ("youtube:dQw4w9WgXcQ", "", GENERATE_CONTENT)


def test_a_gemini_request_line_without_contents_is_named_as_invalid():
    with pytest.raises(ValidationError, match="contents"):
        read_request(b'{"key": "youtube:a", "request": {"contents": []}}')


def test_a_response_reads_as_its_text_usage_and_model_with_thoughts_left_out_and_billed_as_output():
    parts = [{"text": "Let me think.", "thought": True}, {"text": REPLY[:10]}, {"text": REPLY[10:]}]
    usage = {
        "promptTokenCount": 1200,
        "cachedContentTokenCount": 1000,
        "candidatesTokenCount": 40,
        "thoughtsTokenCount": 150,
    }
    result = read_result(_response(parts=parts, usage=usage))
    assert (result.custom_id, result.status_code, result.service_tier) == ("youtube:a", 200, None)
    assert result.reply is not None
    assert (result.reply.content, result.reply.finish_reason) == (REPLY, "stop")
    assert result.reply.model == "gemini-2.5-flash-lite-001"
    usage_read = result.usage
    assert (usage_read.input_tokens, usage_read.cached_tokens) == (1200, 1000)
    assert (usage_read.output_tokens, usage_read.reasoning_tokens) == (190, 150)


def test_max_tokens_reads_as_a_truncated_reply():
    result = read_result(_response(parts=[{"text": REPLY[:20]}], finish_reason="MAX_TOKENS"))
    assert result.reply is not None and result.reply.finish_reason == "length"


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"])
def test_a_withheld_reply_is_a_refusal_naming_why(reason):
    result = read_result(_response(finish_reason=reason))
    assert result.reply is not None and result.reply.content is None
    assert result.reply.refusal == f"Gemini withheld the reply (finishReason {reason})"


def test_a_blocked_prompt_is_a_refusal_and_a_response_without_candidates_a_problem():
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 9}}
    result = read_result(json.dumps({"key": "youtube:a", "response": blocked}))
    assert (
        result.reply is not None
        and result.reply.refusal == "Gemini blocked the prompt (blockReason PROHIBITED_CONTENT)"
    )
    assert result.usage.input_tokens == 9
    empty = read_result(json.dumps({"key": "youtube:a", "response": {}}))
    assert empty.reply is not None and empty.reply.problem == "no_candidates: the response holds no candidate"


@pytest.mark.parametrize(
    ("error", "status_code", "kind"),
    [
        ({"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}, 429, "RESOURCE_EXHAUSTED"),
        ({"code": 0, "message": "bad schema", "status": "INVALID_ARGUMENT"}, 400, "INVALID_ARGUMENT"),
        ({"message": "try later", "status": "UNAVAILABLE"}, 503, "UNAVAILABLE"),
        ({"code": 13, "message": "oops", "status": "INTERNAL"}, 500, "INTERNAL"),
        ({"message": "no route", "status": "DEADLINE_EXCEEDED"}, 504, "DEADLINE_EXCEEDED"),
        ({"message": "lost", "status": "connection_error"}, None, "connection_error"),
    ],
)
def test_an_error_is_one_failed_item_under_its_http_status(error, status_code, kind):
    result = read_result(json.dumps({"key": "youtube:a", "error": error}))
    assert (result.custom_id, result.status_code, result.reply, result.error_code) == (
        "youtube:a",
        status_code,
        None,
        kind,
    )
    assert result.error_message == error["message"]


def test_a_result_line_with_neither_response_nor_error_still_names_its_item():
    result = read_result(b'{"key": "youtube:a"}')
    assert (result.custom_id, result.status_code, result.reply) == ("youtube:a", None, None)
    assert (result.error_code, result.error_message) == (
        "UNKNOWN",
        "the result line holds neither a response nor an error",
    )


@pytest.mark.parametrize(
    ("code", "status", "name"), [(3, 400, "INVALID_ARGUMENT"), (13, 500, "INTERNAL"), (8, 429, "RESOURCE_EXHAUSTED")]
)
def test_a_result_line_s_google_rpc_status_is_read_by_its_numeric_code(code, status, name):
    """A real batch result line carries a ``google.rpc.Status``: a numeric code and no status name."""
    result = read_result(json.dumps({"key": "a", "error": {"code": code, "message": "why"}}).encode())
    assert (result.status_code, result.error_code, result.error_message) == (status, name, "why")
