"""Gemini's Batch API and Files API as the gateway serves them, through the real google-genai SDK: jobs from
inline requests and from an uploaded file, their results, listing, cancel, delete, and both API versions."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request

import pytest
from google import genai
from google.genai import errors, types

from tagging_assets.wire import tagging_json_schema

KEY = "gemini-test-key"
TEXTS = [
    "Kubernetes schedules pods onto nodes; services give them stable addresses.",
    "Sourdough needs a lively starter, a long cold proof and a very hot oven.",
    "The Fourier transform turns a signal into the frequencies it is made of.",
]
CONFIG = types.GenerateContentConfig(
    system_instruction="Tag the transcript.",
    response_mime_type="application/json",
    response_json_schema=tagging_json_schema(),
    max_output_tokens=600,
    thinking_config=types.ThinkingConfig(thinking_budget=0),
)


def inline_requests(texts: list[str] = TEXTS) -> list[types.InlinedRequest]:
    return [
        types.InlinedRequest(contents=text, config=CONFIG, metadata={"item": f"item-{number}"})
        for number, text in enumerate(texts)
    ]


def file_line(key: str, text: str, **generation: object) -> dict:
    return {
        "key": key,
        "request": {
            "contents": [{"role": "user", "parts": [{"text": text}]}],
            "systemInstruction": {"parts": [{"text": "Tag the transcript."}]},
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": tagging_json_schema(),
                "maxOutputTokens": 600,
                "thinkingConfig": {"thinkingBudget": 0},
                **generation,
            },
        },
    }


def upload_lines(client, lines: list[dict]) -> types.File:
    content = io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())
    return client.files.upload(file=content, config=types.UploadFileConfig(display_name="shard", mime_type="jsonl"))


def ended(client, name: str, timeout: float = 60) -> types.BatchJob:
    deadline = time.monotonic() + timeout
    job = client.batches.get(name=name)
    while not job.done:
        assert time.monotonic() < deadline, f"{name} still {job.state}"
        time.sleep(0.05)
        job = client.batches.get(name=name)
    return job


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, tagger_pools):
    from tagging_assets_tests.support import InProcessGateway

    folder = tmp_path_factory.mktemp("gemini")
    with InProcessGateway(folder, {}, KEY, tagger_pools) as served:
        yield served


def test_an_inline_job_answers_every_request_in_order_with_its_metadata(gateway):
    client = gateway.gemini_client()
    job = client.batches.create(
        model="gemini-2.5-flash", src=inline_requests(), config={"display_name": "inline-shard"}
    )
    assert job.name.startswith("batches/") and job.display_name == "inline-shard"
    assert job.state.name in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING") and job.model == "models/gemini-2.5-flash"
    done = ended(client, job.name)
    assert done.state.name == "JOB_STATE_SUCCEEDED" and done.end_time is not None
    responses = done.dest.inlined_responses
    assert [response.metadata for response in responses] == [{"item": f"item-{n}"} for n in range(len(TEXTS))]
    first = responses[0].response
    assert set(json.loads(first.text)) == {"tags", "summary"}
    assert first.candidates[0].finish_reason.name == "STOP" and first.usage_metadata.prompt_token_count > 0
    assert gateway.wait_until(done.name)["status"] == "completed"
    assert gateway.served()["POST /v1/models/gemini-2.5-flash:batchGenerateContent"] >= 1


def test_a_file_job_writes_a_results_file_keyed_in_input_order(gateway):
    client = gateway.gemini_client()
    uploaded = upload_lines(client, [file_line(f"k{n}", text) for n, text in enumerate(TEXTS)])
    assert uploaded.name.startswith("files/") and uploaded.state.name == "ACTIVE"
    assert uploaded.size_bytes > 0 and uploaded.display_name == "shard"
    assert client.files.get(name=uploaded.name).size_bytes == uploaded.size_bytes
    job = client.batches.create(model="gemini-2.5-flash-lite", src=uploaded.name)
    done = ended(client, job.name)
    assert done.state.name == "JOB_STATE_SUCCEEDED" and done.dest.file_name.startswith("files/")
    lines = [json.loads(line) for line in client.files.download(file=done.dest.file_name).splitlines()]
    assert [line["key"] for line in lines] == ["k0", "k1", "k2"]
    reply = lines[0]["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert set(json.loads(reply)) == {"tags", "summary"}
    assert lines[0]["response"]["modelVersion"] == "gemini-2.5-flash-lite"


def test_a_request_gemini_refuses_fails_alone_with_its_status(gateway):
    client = gateway.gemini_client()
    lines = [file_line("fine", TEXTS[0]), file_line("bad", TEXTS[1], thinkingConfig={"thinkingBudget": 0})]
    job = client.batches.create(model="gemini-2.5-pro", src=upload_lines(client, lines).name)
    done = ended(client, job.name)
    results = [json.loads(line) for line in client.files.download(file=done.dest.file_name).splitlines()]
    assert [result["key"] for result in results] == ["fine", "bad"]
    assert all("error" in result for result in results), "2.5 Pro cannot stop thinking: budget 0 is refused"
    assert results[1]["error"]["status"] == "INVALID_ARGUMENT" and "thinking mode" in results[1]["error"]["message"]


def test_jobs_are_listed_newest_first_in_pages_on_both_api_versions(gateway):
    client = gateway.gemini_client(api_version="v1beta")
    names = [client.batches.create(model="gemini-2.5-flash", src=inline_requests(TEXTS[:1])).name for _ in range(3)]
    listed = [job.name for job in client.batches.list(config={"page_size": 2})]
    assert listed.index(names[2]) < listed.index(names[1]) < listed.index(names[0])
    first_page = client.batches.list(config={"page_size": 2})
    assert [job.name for job in first_page.page] == listed[:2]
    assert [job.name for job in first_page.next_page()] == listed[2:4]
    assert gateway.gemini_client().batches.get(name=names[0]).name == names[0]


def test_deleting_forgets_an_ended_job_and_refuses_a_running_one(start_gateway):
    gateway = start_gateway(KEY, seconds_per_line=0.5)
    client = gateway.gemini_client()
    running = client.batches.create(model="gemini-2.5-flash", src=inline_requests())
    with pytest.raises(errors.ClientError) as refused:
        client.batches.delete(name=running.name)
    assert refused.value.code == 400 and refused.value.status == "FAILED_PRECONDITION"
    client.batches.cancel(name=running.name)
    cancelled = ended(client, running.name)
    assert cancelled.state.name == "JOB_STATE_CANCELLED"
    client.batches.delete(name=running.name)
    with pytest.raises(errors.ClientError) as gone:
        client.batches.get(name=running.name)
    assert gone.value.code == 404 and gone.value.status == "NOT_FOUND"


def test_an_unknown_model_and_a_bad_key_are_googles_errors(gateway):
    client = gateway.gemini_client()
    with pytest.raises(errors.ClientError) as unknown:
        client.batches.create(model="gemini-9-ultra", src=inline_requests())
    assert unknown.value.code == 404 and unknown.value.status == "NOT_FOUND"
    assert "models/gemini-9-ultra is not found for API version v1" in unknown.value.message
    wrong = genai.Client(api_key="not-the-key", http_options={"base_url": f"http://127.0.0.1:{gateway.port}"})
    with pytest.raises(errors.ClientError) as refused:
        wrong.batches.list()
    assert refused.value.code == 400 and refused.value.message == "API key not valid. Please pass a valid API key."
    keyless = urllib.request.Request(f"http://127.0.0.1:{gateway.port}/v1beta/batches")
    with pytest.raises(urllib.error.HTTPError) as unregistered:
        urllib.request.urlopen(keyless)
    assert json.loads(unregistered.value.read())["error"]["status"] == "PERMISSION_DENIED"
