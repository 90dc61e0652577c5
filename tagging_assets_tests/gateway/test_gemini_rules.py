"""Where the gateway's Gemini API must be as strict as Google's and no stricter: limits that belong to other
protocols do not reach a Gemini job, and Gemini's own rules are enforced in Google's terms."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from google.genai import errors, types

from tagging_assets.core.protocol import GEMINI_EXPIRY_SECONDS
from tagging_assets.gateway.tokens import prompt_tokens
from tagging_assets_tests.gateway.test_gemini_batches import (
    KEY,
    TEXTS,
    ended,
    file_line,
    inline_requests,
    upload_lines,
)


def test_openais_input_size_limit_does_not_reach_a_gemini_job(start_gateway):
    gateway = start_gateway(KEY, max_input_bytes=64)
    client = gateway.gemini_client()
    uploaded = upload_lines(client, [file_line(f"k{n}", text) for n, text in enumerate(TEXTS)])
    assert uploaded.size_bytes > 64
    done = ended(client, client.batches.create(model="gemini-2.5-flash", src=uploaded.name).name)
    assert done.state.name == "JOB_STATE_SUCCEEDED"
    seen = gateway.wait_until(done.name)
    assert seen["status"] == "completed" and seen["completed"] == 3


def test_geminis_file_routes_see_only_geminis_files(start_gateway):
    gateway = start_gateway(KEY)
    client = gateway.gemini_client()
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}
    openai_file = gateway.client().files.create(file=io.BytesIO(json.dumps(line).encode()), purpose="batch")
    as_gemini = "files/" + openai_file.id.removeprefix("file-")
    with pytest.raises(errors.ClientError) as unseen:
        client.files.get(name=as_gemini)
    assert unseen.value.code == 403 and unseen.value.status == "PERMISSION_DENIED"
    with pytest.raises(errors.ClientError) as not_input:
        client.batches.create(model="gemini-2.5-flash", src=as_gemini)
    assert not_input.value.code == 404
    with pytest.raises(errors.ClientError) as not_deleted:
        client.files.delete(name=as_gemini)
    assert not_deleted.value.code == 403
    assert gateway.client().files.retrieve(openai_file.id).id == openai_file.id


def test_an_uploaded_file_cannot_be_downloaded_and_a_results_file_can(start_gateway):
    gateway = start_gateway(KEY)
    client = gateway.gemini_client()
    uploaded = upload_lines(client, [file_line("k0", TEXTS[0])])
    with pytest.raises(errors.ClientError) as refused:
        client.files.download(file=uploaded.name)
    assert refused.value.code == 400 and refused.value.status == "INVALID_ARGUMENT"
    assert "uploaded files can't be downloaded" in refused.value.message
    done = ended(client, client.batches.create(model="gemini-2.5-flash", src=uploaded.name).name)
    assert [json.loads(line)["key"] for line in client.files.download(file=done.dest.file_name).splitlines()] == ["k0"]


def test_openais_file_listing_leaves_out_geminis_files(start_gateway):
    gateway = start_gateway(KEY)
    client = gateway.gemini_client()
    openai = gateway.client()
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}
    own = openai.files.create(file=io.BytesIO(json.dumps(line).encode()), purpose="batch")
    uploaded = upload_lines(client, [file_line("k0", TEXTS[0])])
    ended(client, client.batches.create(model="gemini-2.5-flash", src=uploaded.name).name)
    ended(client, client.batches.create(model="gemini-2.5-flash", src=inline_requests(TEXTS[:1])).name)
    assert [listed.id for listed in openai.files.list()] == [own.id]
    assert list(openai.files.list(purpose="gemini")) == []


def input_copies(gateway) -> list[dict]:
    with sqlite3.connect(gateway.state_dir / "gateway.sqlite3") as db:
        rows = db.execute("SELECT object FROM files").fetchall()
    return [copy for (raw,) in rows if (copy := json.loads(raw))["purpose"] == "gemini_batch"]


def test_a_jobs_converted_input_expires_with_the_job_and_goes_with_its_deletion(start_gateway):
    gateway = start_gateway(KEY)
    client = gateway.gemini_client()
    done = ended(client, client.batches.create(model="gemini-2.5-flash", src=inline_requests(TEXTS[:1])).name)
    [copy] = input_copies(gateway)
    assert copy["expires_at"] == copy["created_at"] + GEMINI_EXPIRY_SECONDS
    assert (gateway.state_dir / "files" / copy["id"]).exists()
    client.batches.delete(name=done.name)
    assert input_copies(gateway) == []
    assert not (gateway.state_dir / "files" / copy["id"]).exists()


def test_an_injected_429_on_gemini_says_when_to_retry_in_retryinfo_not_headers(start_gateway):
    client = start_gateway(KEY, rate_limit_every=1, retry_after_seconds=0.5).gemini_client()
    with pytest.raises(errors.ClientError) as limited:
        client.batches.list()
    assert limited.value.code == 429 and limited.value.status == "RESOURCE_EXHAUSTED"
    headers = limited.value.response.headers
    assert "retry-after" not in headers and "retry-after-ms" not in headers
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.5s"} in limited.value.details[
        "error"
    ]["details"]


def test_with_an_upstream_gemini_is_refused_in_geminis_name(start_gateway):
    model_server = start_gateway()
    gateway = start_gateway(KEY, upstream=model_server.base_url)
    client = gateway.gemini_client()
    with pytest.raises(errors.ClientError) as batch:
        client.batches.create(model="gemini-2.5-flash", src=inline_requests(TEXTS[:1]))
    with pytest.raises(errors.ClientError) as realtime:
        client.models.generate_content(model="gemini-2.5-flash", contents=TEXTS[0])
    for refused in (batch.value, realtime.value):
        assert refused.code == 400 and refused.status == "FAILED_PRECONDITION"
        assert "does not speak Gemini's generateContent" in refused.message and "Anthropic" not in refused.message
    assert gateway.batches() == {}


@pytest.mark.parametrize(("model", "most"), [("gemini-2.5-flash", 65_536), ("gemini-2.0-flash", 8_192)])
def test_max_output_tokens_over_the_models_maximum_is_refused(start_gateway, model, most):
    client = start_gateway(KEY).gemini_client()
    config = types.GenerateContentConfig(max_output_tokens=most)
    assert client.models.generate_content(model=model, contents=TEXTS[0], config=config).text
    with pytest.raises(errors.ClientError) as refused:
        config = types.GenerateContentConfig(max_output_tokens=most + 1)
        client.models.generate_content(model=model, contents=TEXTS[0], config=config)
    assert refused.value.code == 400 and refused.value.status == "INVALID_ARGUMENT"
    assert f"maxOutputTokens value of {most + 1}" in refused.value.message
    assert f"to {most + 1} (exclusive)" in refused.value.message


def test_a_job_over_the_enqueued_token_limit_is_refused_at_create_with_resource_exhausted(start_gateway):
    lines = [file_line(f"k{n}", text) for n, text in enumerate(TEXTS)]
    one_job = sum(prompt_tokens(line["request"]) for line in lines)
    gateway = start_gateway(KEY, enqueued_token_limit=one_job + 1, seconds_per_line=0.5, workers=1)
    client = gateway.gemini_client()
    first = client.batches.create(model="gemini-2.5-flash", src=upload_lines(client, lines).name)
    gateway.wait_until(first.name, ("in_progress", "finalizing", "completed"))
    with pytest.raises(errors.ClientError) as refused:
        client.batches.create(model="gemini-2.5-flash", src=upload_lines(client, lines).name)
    assert refused.value.code == 429 and refused.value.status == "RESOURCE_EXHAUSTED"
    assert f"over the limit of {one_job + 1:,}" in refused.value.message
    assert list(gateway.batches()) == [first.name]
    other_model = client.batches.create(model="gemini-2.5-flash-lite", src=upload_lines(client, lines).name)
    assert ended(client, other_model.name).state.name == "JOB_STATE_SUCCEEDED"
    assert ended(client, first.name).state.name == "JOB_STATE_SUCCEEDED"
