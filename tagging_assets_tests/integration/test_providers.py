"""Azure OpenAI, Anthropic and Gemini end to end, each through its SDK: the AzureOpenAI client against the gateway's
Azure paths (``/openai/...``, ``api-version``, the ``api-key`` header, a deployment named as the model), the
Anthropic client against its Message Batches, and google-genai's ``Client`` against Gemini's Batch API, through the
command line and the demo. How the provider is chosen is in core/test_settings.py."""

import json
import re
import urllib.error
import urllib.request

import openai
import pytest
from click.testing import CliRunner, Result

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.wire import item_id_of
from tagging_assets_tests.reading import stored_payloads
from tagging_assets_tests.support import user_env

AZURE_KEY = "azure-test-key"
DEPLOYMENT = "tagging-batch"


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def azure(start_gateway):
    return start_gateway(api_key=AZURE_KEY, azure_deployments=f"{DEPLOYMENT}=gpt-4o-mini")


def azure_env(tmp_path, gateway) -> dict[str, str]:
    return user_env(
        tmp_path,
        gateway,
        "azure",
        AZURE_OPENAI_ENDPOINT=f"http://127.0.0.1:{gateway.port}",
        AZURE_OPENAI_API_KEY=AZURE_KEY,
        TAGGING_AZURE_DEPLOYMENT=DEPLOYMENT,
    )


def test_the_cli_workflow_tags_every_bundled_transcript_on_azure(tmp_path, azure):
    env = azure_env(tmp_path, azure)
    assert cli(env, "seed-cache").exit_code == 0
    requests = tmp_path / "requests.jsonl"
    prepared = cli(env, "prepare", "--output", str(requests))
    assert "Requests for tagging-batch at /v1/chat/completions" in prepared.stdout, prepared.stdout
    assert {json.loads(line)["body"]["model"] for line in requests.read_text().splitlines()} == {DEPLOYMENT}
    submitted = cli(env, "submit", "--input", str(requests), "--json")
    assert submitted.exit_code == 0, submitted.stderr
    batch_id = json.loads(submitted.stdout)["batch_id"]
    assert cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.1").exit_code == 0
    processed = cli(env, "process", "--batch-id", batch_id)
    assert "42 tagged, 0 failed." in processed.stdout, processed.stderr
    assert re.search(r"\$[\d.]+ with the Batch API", processed.stdout), "priced as gpt-4o-mini, its deployment's model"
    served = azure.served()
    assert served["POST /openai/files"] == 1 and served["POST /openai/batches"] == 1
    assert not [route for route in served if route.split()[1].startswith("/v1/")], served
    batch = azure.client().batches.retrieve(batch_id)
    assert batch.endpoint == "/chat/completions", "created as Azure's global-batch guide creates it"
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        states = [payload["tagging"] for _, payload in stored_payloads(cache, ["tagging"]) if payload.get("tagging")]
    assert {(state["model"], state["model_snapshot"]) for state in states} == {(DEPLOYMENT, "gpt-4o-mini-2024-07-18")}
    assert {state["base_url"] for state in states} == {f"http://127.0.0.1:{azure.port}/openai"}


def test_the_demo_runs_on_azures_protocol_through_the_local_gateway(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "azure")
    demo = cli(env, "demo")
    assert demo.exit_code == 0, demo.stderr
    assert "42 of 43 videos tagged" in demo.stdout
    assert any(route.startswith("POST /openai/batches") for route in shared_gateway.served())


def test_azure_credentials_and_api_version_are_checked_as_azure_checks_them(azure):
    endpoint = f"http://127.0.0.1:{azure.port}"
    wrong = openai.AzureOpenAI(azure_endpoint=endpoint, api_key="wrong", api_version="2025-04-01-preview")
    with pytest.raises(openai.AuthenticationError) as refused:
        wrong.batches.list()
    assert refused.value.body["message"].startswith("Access denied due to invalid subscription key")
    request = urllib.request.Request(f"{endpoint}/openai/batches", headers={"api-key": AZURE_KEY})
    with pytest.raises(urllib.error.HTTPError) as unversioned:
        urllib.request.urlopen(request, timeout=10)
    assert unversioned.value.code == 400
    assert json.load(unversioned.value)["error"]["code"] == "MissingApiVersionParameter"
    bearer = openai.OpenAI(base_url=f"{endpoint}/v1", api_key=AZURE_KEY)
    assert bearer.batches.list().data == [], "the same key as a bearer token on OpenAI's paths"


def test_azure_keeps_files_14_to_30_days_and_a_shorter_ttl_is_refused_before_anything_is_sent(azure):
    with pytest.raises(ConfigError) as refused:
        TaggingSettings.from_env({"TAGGING_PROVIDER": "azure", "TAGGING_FILE_TTL_DAYS": "1"})
    assert "TAGGING_FILE_TTL_DAYS: Azure keeps files 14 to 30 days, not 1" in str(refused.value)
    endpoint = f"http://127.0.0.1:{azure.port}"
    client = openai.AzureOpenAI(azure_endpoint=endpoint, api_key=AZURE_KEY, api_version="2025-04-01-preview")
    with pytest.raises(openai.BadRequestError) as short:
        client.files.create(
            file=("in.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3_600}
        )
    assert short.value.body["param"] == "expires_after" and "between 1209600 and 2592000" in short.value.body["message"]


ANTHROPIC_KEY = "sk-ant-test"


def test_the_cli_workflow_tags_every_bundled_transcript_with_claude_haiku_on_message_batches(tmp_path, start_gateway):
    gateway = start_gateway(api_key=ANTHROPIC_KEY)
    env = user_env(
        tmp_path,
        gateway,
        "anthropic",
        ANTHROPIC_API_KEY=ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL=f"http://127.0.0.1:{gateway.port}",
    )
    assert cli(env, "seed-cache").exit_code == 0
    requests = tmp_path / "requests.jsonl"
    prepared = cli(env, "prepare", "--output", str(requests))
    assert "Requests for claude-haiku-4-5 at /v1/messages" in prepared.stdout, prepared.stdout
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", line["custom_id"]) for line in lines)
    assert {item_id_of(line["custom_id"]) for line in lines} >= {"youtube:sample-ab-testing"}
    assert {line["params"]["output_config"]["format"]["type"] for line in lines} == {"json_schema"}
    submitted = cli(env, "submit", "--input", str(requests), "--json")
    assert submitted.exit_code == 0, submitted.stderr
    batch_id = json.loads(submitted.stdout)["batch_id"]
    assert batch_id.startswith("msgbatch_")
    assert cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.1").exit_code == 0
    status = json.loads(cli(env, "status", "--batch-id", batch_id, "--json").stdout)
    assert (status["status"], status["completed"], status["total"]) == ("completed", 42, 42)
    processed = cli(env, "process", "--batch-id", batch_id)
    assert "42 tagged, 0 failed." in processed.stdout, processed.stderr
    assert re.search(r"\$[\d.]+ with the Batch API", processed.stdout), "priced at Claude Haiku 4.5's batch rate"
    served = gateway.served()
    assert served["POST /v1/messages/batches"] == 1 and not any("/files" in route for route in served), served
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        states = [payload["tagging"] for _, payload in stored_payloads(cache, ["tagging"]) if payload.get("tagging")]
    assert {(state["model"], state["model_snapshot"]) for state in states} == {
        ("claude-haiku-4-5", "claude-haiku-4-5-20251001")
    }
    assert {state["endpoint"] for state in states} == {"/v1/messages"}


def test_the_demo_runs_on_anthropics_protocol_through_the_local_gateway(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "anthropic")
    demo = cli(env, "demo")
    assert demo.exit_code == 0, demo.stderr
    assert "42 of 43 videos tagged" in demo.stdout
    assert re.search(r"\$0\.0\d+ at batch prices", demo.stdout), demo.stdout[-400:]
    assert any(route.startswith("POST /v1/messages/batches") for route in shared_gateway.served())


GEMINI_KEY = "gemini-test-key"
GEMINI_BATCH_PRICES = (0.05, 0.20)
"""gemini-2.5-flash-lite's batch prices, dollars per million input and output tokens (half its standard ones)."""


def batch_cost_at_gemini_prices(processed: str) -> float:
    """The cost the tokens a ``process`` printed come to at gemini-2.5-flash-lite's batch prices."""
    counts = re.search(r"([\d,]+) input \(0 cached\) \+ ([\d,]+) output", processed)
    assert counts, processed
    input_tokens, output_tokens = (int(count.replace(",", "")) for count in counts.groups())
    return (input_tokens * GEMINI_BATCH_PRICES[0] + output_tokens * GEMINI_BATCH_PRICES[1]) / 1_000_000


def test_the_cli_workflow_tags_every_bundled_transcript_with_gemini_flash_lite_through_google_genai(
    tmp_path, start_gateway
):
    gateway = start_gateway(api_key=GEMINI_KEY)
    env = user_env(
        tmp_path,
        gateway,
        "gemini",
        GEMINI_API_KEY=GEMINI_KEY,
        GOOGLE_GEMINI_BASE_URL=f"http://127.0.0.1:{gateway.port}",
    )
    assert cli(env, "seed-cache").exit_code == 0
    requests = tmp_path / "requests.jsonl"
    prepared = cli(env, "prepare", "--output", str(requests))
    assert "Requests for gemini-2.5-flash-lite at /v1/models/{model}:generateContent" in prepared.stdout
    lines = [json.loads(line) for line in requests.read_text().splitlines()]
    assert {item_id_of(line["key"]) for line in lines} >= {"youtube:sample-ab-testing"}
    assert {line["request"]["generationConfig"]["responseMimeType"] for line in lines} == {"application/json"}
    submitted = cli(env, "submit", "--input", str(requests), "--json")
    assert submitted.exit_code == 0, submitted.stderr
    batch_id = json.loads(submitted.stdout)["batch_id"]
    assert batch_id.startswith("batches/")
    assert cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.1").exit_code == 0
    status = json.loads(cli(env, "status", "--batch-id", batch_id, "--json").stdout)
    assert (status["status"], status["completed"], status["total"]) == ("completed", 42, 42)
    processed = cli(env, "process", "--batch-id", batch_id)
    assert "42 tagged, 0 failed." in processed.stdout, processed.stderr
    cost = re.search(r"\$([\d.]+) with the Batch API", processed.stdout)
    assert cost and float(cost.group(1)) == pytest.approx(batch_cost_at_gemini_prices(processed.stdout), abs=1e-6)
    served = gateway.served()
    assert served["POST /v1/models/gemini-2.5-flash-lite:batchGenerateContent"] == 1, served
    assert not any("/files" in route for route in served), "42 requests go inline, no upload"
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        states = [payload["tagging"] for _, payload in stored_payloads(cache, ["tagging"]) if payload.get("tagging")]
    assert len(states) == 42 and {state["status"] for state in states} == {"tagged"}
    assert {(state["model"], state["endpoint"], state["batch_id"]) for state in states} == {
        ("gemini-2.5-flash-lite", "/v1/models/{model}:generateContent", batch_id)
    }


def test_the_demo_runs_on_geminis_protocol_through_the_local_gateway(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "gemini")
    demo = cli(env, "demo")
    assert demo.exit_code == 0, demo.stderr
    assert "Tagging with gemini-2.5-flash-lite at Gemini's Batch API (the local gateway" in demo.stdout
    assert "42 of 43 videos tagged" in demo.stdout
    line = re.search(
        r"([\d,]+) tokens \(0 cached input, 0 reasoning\), \$([\d.]+) at batch prices \(\$[\d.]+ flex, \$([\d.]+) "
        r"realtime\)",
        demo.stdout,
    )
    assert line, demo.stdout[-400:]
    tokens, batch, realtime = int(line.group(1).replace(",", "")), float(line.group(2)), float(line.group(3))
    low, high = (tokens * price / 1_000_000 for price in GEMINI_BATCH_PRICES)
    assert low < batch < high, "between all tokens at the batch input price and all at the batch output price"
    assert realtime == pytest.approx(2 * batch, abs=2e-6), "Gemini's batch prices are half its standard ones"
    assert any(route.endswith(":batchGenerateContent") for route in shared_gateway.served())
