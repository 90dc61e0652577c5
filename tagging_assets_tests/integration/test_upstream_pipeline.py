"""The batch pipeline on a model server of the user's own: the command line against a gateway run with
``--upstream`` in front of a second gateway's realtime endpoints (standing in for vLLM or Ollama). Every bundled
transcript is tagged by the model, recorded as the upstream's, and not taken for the offline tagger's later."""

import json
import re

from click.testing import CliRunner, Result

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets_tests.reading import stored_payloads
from tagging_assets_tests.support import user_env

BUNDLED_WITH_TRANSCRIPTS = 42
"""The bundled samples: 43 videos, one of them without a transcript."""
MODEL_SNAPSHOT = "gpt-4o-mini-2024-07-18"


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def taggings(env: dict[str, str]) -> list[dict]:
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        payloads = [payload for _, payload in stored_payloads(cache, ["video_id", "tags", "tagging"])]
    return [payload["tagging"] | {"tags": payload["tags"]} for payload in payloads if payload.get("tagging")]


def test_prepare_submit_watch_process_through_an_upstream_tags_every_bundled_transcript(
    tmp_path, start_gateway, monkeypatch
):
    model_server = start_gateway(api_key="sk-model-server")
    monkeypatch.setenv("MODEL_SERVER_KEY", "sk-model-server")
    gateway = start_gateway(upstream=model_server.base_url, upstream_key_env="MODEL_SERVER_KEY")
    env = user_env(tmp_path, gateway)
    assert cli(env, "seed-cache").exit_code == 0

    prepared = cli(env, "prepare", "--output", str(tmp_path / "input.jsonl"))
    assert prepared.exit_code == 0, prepared.stderr
    assert f"{BUNDLED_WITH_TRANSCRIPTS} need tags" in prepared.stdout
    submitted = cli(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    assert submitted.exit_code == 0, submitted.stderr
    batch_id = re.search(r"Batch (batch_\w+)", submitted.stdout).group(1)
    watched = cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.2")
    assert f"completed {BUNDLED_WITH_TRANSCRIPTS}/{BUNDLED_WITH_TRANSCRIPTS}" in watched.stdout, watched.stdout
    processed = cli(env, "process", "--batch-id", batch_id)
    assert processed.exit_code == 0, processed.stderr
    assert f"{BUNDLED_WITH_TRANSCRIPTS} tagged, 0 failed" in processed.stdout

    states = taggings(env)
    assert len(states) == BUNDLED_WITH_TRANSCRIPTS
    assert all(state["status"] == "tagged" and state["tags"] for state in states)
    assert {state["backend"] for state in states} == {"upstream"}
    assert {state["model_snapshot"] for state in states} == {MODEL_SNAPSHOT}
    received = model_server.realtime_arrivals()["received"]
    assert len(received) == BUNDLED_WITH_TRANSCRIPTS and set(received.values()) == {1}

    real_api_env = {**env, "OPENAI_BASE_URL": model_server.base_url, "OPENAI_API_KEY": "sk-model-server"}
    selection = cli(real_api_env, "prepare", "--output", str(tmp_path / "check.jsonl"), "--json")
    assert selection.exit_code == 0, selection.stderr
    assert json.loads(selection.stdout)["selected"] == {}
    assert json.loads(selection.stdout)["skipped"] == {"up-to-date": BUNDLED_WITH_TRANSCRIPTS, "missing-transcript": 1}
