"""Each endpoint's request lines: what its builder spells, and the fast encoder that writes them."""

import json
from typing import get_args

import pytest

from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import ModelTable
from tagging_assets.core.prompt import user_message
from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, RESPONSES, Endpoint
from tagging_assets.wire import BUILDERS, builder_for, encoder, read_request
from tagging_assets_tests.support import shard_options


def test_every_endpoint_the_pipeline_speaks_has_a_builder_and_no_other():
    assert set(BUILDERS) == set(get_args(Endpoint))
    with pytest.raises(ConfigError, match="TAGGING_ENDPOINT=/v1/embeddings: expected one of"):
        builder_for("/v1/embeddings")


def test_each_endpoint_spells_the_options_its_own_way():
    options = ModelTable().profile("gpt-5-mini").request_options()
    chat = BUILDERS[CHAT_COMPLETIONS].request("c", options, "Tag it.", "text").model_dump(exclude_none=True)["body"]
    assert chat["max_completion_tokens"] == 1_300 and chat["reasoning_effort"] == "minimal"
    assert "temperature" not in chat and "max_tokens" not in chat
    assert chat["response_format"]["json_schema"]["strict"] is True
    responses = BUILDERS[RESPONSES].request("c", options, "Tag it.", "text").model_dump(exclude_none=True)["body"]
    assert responses["max_output_tokens"] == 1_300 and responses["reasoning"] == {"effort": "minimal"}
    assert responses["instructions"] == "Tag it." and responses["input"] == [{"role": "user", "content": "text"}]
    text_format = responses["text"]["format"]
    assert (text_format["type"], text_format["name"], text_format["strict"]) == ("json_schema", "video_tags", True)
    assert json.dumps(text_format["schema"]) == json.dumps(chat["response_format"]["json_schema"]["schema"])


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-5-mini", "gpt-5.1"])
@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/responses"])
def test_the_fast_encoder_writes_exactly_what_the_model_would(model, endpoint):
    options = shard_options(model)["options"]
    fast = encoder(endpoint, options, "Tag it.")
    odd = 'quotes " and \\ backslashes, \t tabs, \x00\x1f\x7f controls, </script>, 日本語'
    for text in ["plain", odd, "émoji 🤗, a line\nbreak and \u2028", ""]:
        user = user_message('Tïtle "x"', text)
        expected = BUILDERS[endpoint].request('youtube:v"7', options, "Tag it.", user)
        assert fast.encode('youtube:v"7', user).decode() == expected.model_dump_json(exclude_none=True) + "\n"
        body = expected.model_dump()["body"]
        assert (body.get("messages") or body["input"])[-1]["content"] == user


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-opus-4-1"])
def test_the_fast_encoder_writes_message_batch_requests_under_anthropics_custom_ids(model):
    options = shard_options(model, MESSAGES)["options"]
    fast = encoder(MESSAGES, options, "Tag it.")
    custom_id = fast.custom_id("youtube:dQw4w9WgXcQ")
    user = user_message('Tïtle "x"', 'quotes " and \\ backslashes, \x00 controls')
    line = fast.encode(custom_id, user)
    expected = BUILDERS[MESSAGES].request(custom_id, options, "Tag it.", user)
    assert line.decode() == expected.model_dump_json(exclude_none=True) + "\n"
    assert read_request(line.rstrip(b"\n")) == read_request(expected.model_dump_json(exclude_none=True).encode())
    assert (read_request(line).custom_id, read_request(line).endpoint) == ("youtube-3adQw4w9WgXcQ", MESSAGES)
