"""Today's models and both endpoints end to end, against a gateway that keeps OpenAI's reasoning-model rules; the
move from the demo to a real API; a work directory whose records another API made; a model without a price; a
model going away. The command line runs in process (click's runner), the gateway as a process."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.gateway.models import SNAPSHOTS
from tagging_assets_tests.reading import stored_payloads
from tagging_assets_tests.support import failed_submit_message, resources_for, user_env

SAMPLES_WITH_TRANSCRIPTS = 42
"""The bundled samples: 43 videos, one of them without a transcript."""
API_KEY = "sk-test-real-api"


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def payloads(env: dict[str, str]) -> list[dict]:
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        return [payload for _, payload in stored_payloads(cache, ["video_id", "tags", "tagging", "transcript"])]


def workflow(env: dict[str, str], folder: Path) -> tuple[str, Result, Result]:
    """prepare, submit, watch and process, as a user runs them; the batch id, prepare's and process's output."""
    requests = folder / "requests.jsonl"
    prepared = cli(env, "prepare", "--output", str(requests))
    assert prepared.exit_code == 0, prepared.stderr
    submitted = cli(env, "submit", "--input", str(requests))
    assert submitted.exit_code == 0, submitted.stderr
    batch_id = re.search(r"Batch (batch_\w+)", submitted.stdout).group(1)
    watched = cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.1")
    assert watched.exit_code == 0, watched.stderr
    processed = cli(env, "process", "--batch-id", batch_id)
    assert processed.exit_code == 0, processed.stderr
    return batch_id, prepared, processed


@pytest.mark.parametrize(
    ("model", "endpoint"),
    [
        ("gpt-5-mini", "/v1/chat/completions"),
        ("gpt-5.1", "/v1/chat/completions"),
        ("gpt-5-mini", "/v1/responses"),
        ("gpt-5.1", "/v1/responses"),
        ("gpt-4o-mini", "/v1/responses"),
    ],
)
def test_the_cli_workflow_tags_every_bundled_transcript_on_todays_models(model, endpoint, tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, TAGGING_MODEL=model, TAGGING_ENDPOINT=endpoint)
    assert cli(env, "seed-cache").exit_code == 0
    _, prepared, processed = workflow(env, tmp_path)
    assert f"Requests for {model} at {endpoint}" in prepared.stdout
    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    bodies = [line["body"] for line in lines]
    assert len(lines) == SAMPLES_WITH_TRANSCRIPTS and {line["url"] for line in lines} == {endpoint}
    assert not any("max_tokens" in body for body in bodies), "the deprecated parameter is never sent"
    if model == "gpt-5-mini":
        assert not any("temperature" in body for body in bodies), "gpt-5 takes only the default temperature"
    effort = {"gpt-5-mini": "minimal", "gpt-5.1": "none", "gpt-4o-mini": None}[model]
    sent = {body.get("reasoning_effort") or (body.get("reasoning") or {}).get("effort") for body in bodies}
    assert sent == {effort}
    assert f"{SAMPLES_WITH_TRANSCRIPTS} tagged, 0 failed." in processed.stdout
    reasoning = int(re.search(r"\(([\d,]+) reasoning\) tokens", processed.stdout).group(1).replace(",", ""))
    assert (reasoning > 0) == (model == "gpt-5-mini"), "gpt-5-mini reasons at minimal effort; gpt-5.1 at none not"
    tagged = [payload for payload in payloads(env) if (payload.get("tagging") or {}).get("status") == "tagged"]
    assert len(tagged) == SAMPLES_WITH_TRANSCRIPTS and all(payload["tags"] for payload in tagged)
    assert {payload["tagging"]["model_snapshot"] for payload in tagged} == {SNAPSHOTS[model]}
    assert {payload["tagging"]["endpoint"] for payload in tagged} == {endpoint}


@pytest.mark.parametrize(
    ("model", "endpoint"),
    [("gpt-5-mini", "/v1/chat/completions"), ("gpt-5.1", "/v1/chat/completions"), ("gpt-5-mini", "/v1/responses")],
)
def test_the_demo_tags_every_bundled_transcript_on_todays_models(model, endpoint, tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, TAGGING_MODEL=model, TAGGING_ENDPOINT=endpoint)
    demo = cli(env, "demo")
    assert demo.exit_code == 0, demo.stderr
    assert f"{SAMPLES_WITH_TRANSCRIPTS} of 43 videos tagged" in demo.stdout
    assert re.search(r"tokens \([\d,]+ cached input, [\d,]+ reasoning\), \$[\d.]+ at batch prices", demo.stdout)


def test_after_the_demo_a_real_api_tags_the_offline_items_again_and_only_those(tmp_path, shared_gateway, start_gateway):
    env = user_env(tmp_path, shared_gateway)
    demo = cli(env, "demo")
    assert f"{SAMPLES_WITH_TRANSCRIPTS} of 43 videos tagged" in demo.stdout
    offline = [payload["tagging"] for payload in payloads(env) if payload.get("tagging")]
    assert {state["backend"] for state in offline} == {"offline-tagger"}

    real = start_gateway(api_key=API_KEY)
    api_env = {**env, "OPENAI_BASE_URL": real.base_url, "OPENAI_API_KEY": API_KEY}
    selection = cli(api_env, "prepare", "--output", str(tmp_path / "check.jsonl"), "--json")
    assert json.loads(selection.stdout)["selected"] == {"offline-tags": SAMPLES_WITH_TRANSCRIPTS}
    again = cli(api_env, "demo")
    assert again.exit_code == 0, again.stderr
    assert "Submitted 1 batch job(s)" in again.stdout and f"{SAMPLES_WITH_TRANSCRIPTS} tagged, 0 failed" in again.stdout
    states = [payload["tagging"] for payload in payloads(env) if payload.get("tagging")]
    assert len(states) == SAMPLES_WITH_TRANSCRIPTS
    assert {(state["backend"], state["base_url"]) for state in states} == {("api", real.base_url.rstrip("/"))}
    assert {state["model_snapshot"] for state in states} == {SNAPSHOTS["gpt-4o-mini"]}
    settled = cli(api_env, "prepare", "--output", str(tmp_path / "after.jsonl"), "--json")
    assert json.loads(settled.stdout)["skipped"] == {"up-to-date": SAMPLES_WITH_TRANSCRIPTS, "missing-transcript": 1}
    offline_again = cli(env, "prepare", "--output", str(tmp_path / "offline.jsonl"), "--json")
    assert json.loads(offline_again.stdout)["requests"] == 0, "the gateway never overrides a real API's tags"


def test_a_work_dir_from_another_api_submits_once_at_this_one_and_never_twice(tmp_path, shared_gateway, start_gateway):
    env = user_env(tmp_path, shared_gateway)
    cli(env, "seed-cache")
    requests = tmp_path / "requests.jsonl"
    cli(env, "prepare", "--output", str(requests))
    made_here = re.search(r"Batch (batch_\w+)", cli(env, "submit", "--input", str(requests)).stdout).group(1)

    other = start_gateway(api_key=API_KEY)
    api_env = {**env, "OPENAI_BASE_URL": other.base_url, "OPENAI_API_KEY": API_KEY}
    first = cli(api_env, "submit", "--input", str(requests))
    assert first.exit_code == 0, first.stderr
    [warning] = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert made_here in warning and shared_gateway.base_url.rstrip("/") in warning
    assert other.base_url.rstrip("/") in warning and "set aside" in warning
    made_there = re.search(r"Batch (batch_\w+)", first.stdout).group(1)
    assert made_there != made_here
    second = cli(api_env, "submit", "--input", str(requests))
    assert f"Batch {made_there}" in second.stdout and "warning:" not in second.stderr
    served = other.served()
    assert served.get("POST /v1/files") == 1 and served.get("POST /v1/batches") == 1
    for command in ("status", "process"):
        result = cli(api_env, command, "--batch-id", made_here)
        assert result.exit_code != 0
        [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert line.startswith(f"error: batch {made_here} was made at the Batch API at {shared_gateway.base_url}")


def test_an_unknown_model_with_a_cap_is_refused_before_anything_is_uploaded(tmp_path, start_gateway):
    gateway = start_gateway()
    env = user_env(tmp_path, gateway, TAGGING_MODEL="gpt-5.7")
    cli(env, "seed-cache")
    requests = tmp_path / "requests.jsonl"
    prepared = cli(env, "prepare", "--output", str(requests))
    assert "Expected cost: unknown: the price of gpt-5.7 is unknown" in prepared.stdout
    refused = cli({**env, "TAGGING_MAX_COST_USD": "5"}, "submit", "--input", str(requests))
    assert refused.exit_code != 0
    [line] = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert "no price for gpt-5.7" in line and "TAGGING_PRICING_FILE" in line
    served = gateway.served()
    assert "POST /v1/files" not in served and "POST /v1/batches" not in served
    assert not any((payload.get("tagging") or {}).get("status") == "pending" for payload in payloads(env))


def test_a_model_going_away_is_warned_of_and_refused_inside_the_batch_window(tmp_path, start_gateway):
    today = datetime.now(UTC).date()
    soon, tomorrow = today + timedelta(days=5), today + timedelta(days=1)
    gateway = start_gateway(api_key=API_KEY, shutdown_dates=f"gpt-5-mini={soon},gpt-5-nano={tomorrow}")
    env = user_env(tmp_path, gateway, OPENAI_BASE_URL=gateway.base_url, OPENAI_API_KEY=API_KEY)
    cli(env, "seed-cache")
    warned = cli({**env, "TAGGING_MODEL": "gpt-5-mini"}, "prepare", "--output", str(tmp_path / "a.jsonl"))
    assert warned.exit_code == 0 and f"warning: gpt-5-mini shuts down on {soon}" in warned.stderr
    refused = cli({**env, "TAGGING_MODEL": "gpt-5-nano"}, "prepare", "--output", str(tmp_path / "b.jsonl"))
    assert refused.exit_code != 0
    assert f"error: gpt-5-nano shuts down on {tomorrow}, inside the 24-hour window" in refused.stderr
    assert not (tmp_path / "b.jsonl").exists()


def test_the_dagster_submission_refuses_a_model_shutting_down_and_an_unpriced_one_under_a_cap(
    instance, start_gateway, seeded_cache, tmp_path
):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    gateway = start_gateway(shutdown_dates=f"gpt-5-nano={tomorrow}")
    retiring = resources_for(gateway, seeded_cache, tmp_path, model="gpt-5-nano")
    message = failed_submit_message(instance, retiring)
    assert f"Failure: gpt-5-nano shuts down on {tomorrow}, inside the 24-hour window" in message
    unpriced = resources_for(gateway, seeded_cache, tmp_path, model="gpt-5.7", max_cost_usd=5.0)
    assert "no price for gpt-5.7" in failed_submit_message(instance, unpriced)
    served = gateway.served()
    assert "POST /v1/files" not in served and "POST /v1/batches" not in served
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        assert not any(payload.get("tagging") for _, payload in stored_payloads(cache, ["tagging"])), (
            "nothing marked pending"
        )
