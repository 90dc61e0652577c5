"""Authentication, binding, the realtime endpoint and the SDK's own models."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import openai
import pytest
from openai.types import Batch, FileObject
from openai.types.chat import ChatCompletion

from tagging_assets.core.contracts import TaggingOutput
from tagging_assets.gateway.process import free_port
from tagging_assets.wire import tagging_response_format
from tagging_assets_tests.support import jsonl, one_per_lesson, read_lines, request_line, submit, wait_for


def test_a_wrong_or_missing_key_gets_openais_401(start_gateway):
    gateway = start_gateway(api_key="sk-right")
    assert gateway.client().models.list().data
    wrong = openai.OpenAI(base_url=gateway.base_url, api_key="sk-wrong")
    with pytest.raises(openai.AuthenticationError) as error:
        wrong.batches.list()
    assert error.value.body["code"] == "invalid_api_key"
    assert "sk-wrong" not in str(error.value) and "sk-right" not in str(error.value)
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{gateway.base_url}/files", timeout=10)
    assert anonymous.value.code == 401
    assert json.load(anonymous.value)["error"]["message"].startswith("You didn't provide an API key.")


def gateway_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tagging_assets", "gateway", *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "refusing to bind the gateway to 0.0.0.0: it would be reachable from other machines"),
        (["--host", "0.0.0.0", "--allow-remote"], "refusing to serve 0.0.0.0 without an API key"),
    ],
)
def test_a_bind_beyond_loopback_needs_allow_remote_and_a_key(tmp_path, args, message):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TAGGING_GATEWAY_")}
    result = gateway_command(*args, "--port", str(free_port()), "--state-dir", str(tmp_path), env=environ)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {message}"), "the refusal is the only line: nothing claimed to be serving first"


@pytest.mark.subprocess
def test_a_port_in_use_is_one_line_and_nothing_claims_to_serve(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = gateway_command("--port", str(port), "--state-dir", str(tmp_path))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}")


@pytest.mark.subprocess
def test_serving_the_network_without_a_key_takes_a_loud_flag_and_says_so(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "tagging_assets", "gateway", "--host", "0.0.0.0", "--port", str(port)]
    command += ["--allow-remote", "--allow-remote-without-key", "--state-dir", str(tmp_path)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TAGGING_GATEWAY_")}
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environ) as served:
        try:
            banner = [served.stderr.readline(), served.stderr.readline()]
        finally:
            served.terminate()
    assert banner[0].startswith(f"gateway: serving http://0.0.0.0:{port}/v1")
    assert banner[1].startswith(f"gateway: WARNING: no API key: anyone who can reach 0.0.0.0:{port}")


@pytest.mark.subprocess
def test_a_bad_setting_is_one_line_naming_it():
    result = subprocess.run(
        [sys.executable, "-m", "tagging_assets", "gateway", "--line-error-rate", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "line_error_rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_realtime_chat_completions_use_the_same_tagger(shared_gateway, real_transcripts):
    client = shared_gateway.client()
    item = real_transcripts[3]
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": item["transcript"]}],
        response_format=tagging_response_format(),
    )
    reply = TaggingOutput.model_validate_json(completion.choices[0].message.content)
    batch = wait_for(client, submit(client, jsonl([request_line("same", item["transcript"])])).id)
    [line] = [json.loads(text) for text in client.files.content(batch.output_file_id).text.splitlines()]
    batch_reply = TaggingOutput.model_validate_json(line["response"]["body"]["choices"][0]["message"]["content"])
    assert reply == batch_reply
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


def test_another_schema_is_honoured(shared_gateway):
    schema = {
        "type": "object",
        "properties": {
            "keywords": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "description": {"type": "string"},
            "language": {"type": "string", "enum": ["en", "fr"]},
        },
        "required": ["keywords", "description", "language"],
        "additionalProperties": False,
    }
    completion = shared_gateway.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Graph neural networks model molecules. Graph neural networks."}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": True}},
    )
    reply = json.loads(completion.choices[0].message.content)
    assert set(reply) == {"keywords", "description", "language"}
    assert 1 <= len(reply["keywords"]) <= 2 and reply["language"] == "en"


def test_every_response_parses_strictly_into_the_sdks_models(shared_gateway):
    raw = shared_gateway.client().with_raw_response
    uploaded = raw.files.create(
        file=("input.jsonl", jsonl([request_line("a", "Text about tokenizers.")])), purpose="batch"
    )
    file_json = uploaded.http_response.json()
    assert set(file_json) == set(FileObject.model_fields)
    FileObject.model_validate(file_json, strict=True)

    created = raw.batches.create(
        input_file_id=file_json["id"], endpoint="/v1/chat/completions", completion_window="24h"
    ).http_response.json()
    assert set(created) == set(Batch.model_fields), "every field, with explicit nulls"
    Batch.model_validate(created)
    done = wait_for(shared_gateway.client(), created["id"])
    retrieved = raw.batches.retrieve(done.id).http_response.json()
    assert set(retrieved) == set(Batch.model_fields)
    Batch.model_validate(retrieved)

    completion = raw.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tokenizers split text into tokens."}]
    ).http_response.json()
    ChatCompletion.model_validate(completion)
    [line] = shared_gateway.client().files.content(done.output_file_id).text.splitlines()
    ChatCompletion.model_validate(json.loads(line)["response"]["body"])


def test_an_unexpected_tagger_failure_is_a_500_for_that_request_alone(monkeypatch):
    from tagging_assets.gateway import completions
    from tagging_assets.gateway.settings import FaultSettings

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(completions, "tag_text", broken)
    body = request_line("x", "Some text about agents.")["body"]
    status, reply = completions.answer("/v1/chat/completions", body, "x", "keywords", FaultSettings(), None)
    assert status == 500
    assert reply["error"]["type"] == "server_error"
    assert "boom" not in reply["error"]["message"]


def test_forty_real_transcripts_through_a_batch_get_distinct_grounded_tags(shared_gateway, real_transcripts):
    client = shared_gateway.client()
    items = one_per_lesson(real_transcripts, 40)
    lines = [request_line(f"youtube:{item['video_id']}", item["transcript"]) for item in items]
    batch = wait_for(client, submit(client, jsonl(lines)).id)
    assert batch.request_counts.model_dump() == {"total": 40, "completed": 40, "failed": 0}
    by_id = {f"youtube:{item['video_id']}": item for item in items}
    tag_sets = set()
    for line in read_lines(client, batch.output_file_id):
        reply = TaggingOutput.model_validate_json(line["response"]["body"]["choices"][0]["message"]["content"])
        words = set(re.findall(r"[a-z0-9]+", by_id[line["custom_id"]]["transcript"].lower()))
        assert all(set(tag.split("-")) <= words for tag in reply.tags), (line["custom_id"], reply.tags)
        tag_sets.add(frozenset(reply.tags))
    assert len(tag_sets) == 40
