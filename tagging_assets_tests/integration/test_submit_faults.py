"""A submission is made once whatever fails on the way: a submit killed at any point, a response lost on the way
back, 429s, 500s and dropped connections; each fault is made to happen and what the user sees is asserted."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tagging_assets.core.cache import QdrantCache
from tagging_assets.definitions import build_definitions
from tagging_assets.seed.seeding import seed_cache
from tagging_assets_tests.reading import batches_and_uploads, run_cli, statuses
from tagging_assets_tests.support import (
    batch_api_for,
    cache_items,
    failed_submit_message,
    resources_for,
    user_env,
)

PATCHED_SUBMIT = """
import importlib, os, sys
def crash(*args, **kwargs):
    os._exit(137)
owner = importlib.import_module({module!r})
for name in {path!r}.split(".")[:-1]:
    owner = getattr(owner, name)
setattr(owner, {path!r}.split(".")[-1], crash)
from tagging_assets.cli.commands import main
sys.argv = ["tagging-assets", "submit", "--input", {input!r}]
main()
"""


BATCH_ID = r"\b(?:msg)?batch_\w+|\bbatches/\w+"
"""A batch's id as each provider names it: OpenAI's and Azure's ``batch_…``, Anthropic's ``msgbatch_…``, Gemini's
``batches/…``."""


def seeded_and_submitted(env, tmp_path: Path, items: list) -> str:
    """Seed the items, prepare and submit them with the command line, as a user would; the batch's id."""
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        seed_cache(cache, items)
    assert run_cli(env, "prepare", "--output", str(tmp_path / "input.jsonl")).returncode == 0
    submitted = run_cli(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    assert submitted.returncode == 0, submitted.stderr
    return re.search(BATCH_ID, submitted.stdout).group(0)


UPLOADS = {"openai": 1, "azure": 1, "anthropic": 0, "gemini": 0}
"""Uploads one submission makes: Anthropic's Message Batches take their requests inline, and so does a Gemini job
under 20 MB."""
CREATE_POINTS = {
    "anthropic": ("tagging_assets.batches.providers.anthropic_batches", "MessageBatches._create"),
    "gemini": ("tagging_assets.batches.providers.gemini_batches", "GeminiBatches._create"),
}
"""Where an Anthropic or Gemini submission stands where OpenAI's creates its batch from the upload: about to
create."""


def crash_point(module: str, path: str, provider: str) -> tuple[str, str]:
    if path == "OpenAIBatches._create_batch" and provider in CREATE_POINTS:
        return CREATE_POINTS[provider]
    return module, path


@pytest.mark.parametrize(
    ("module", "crash_in", "after"),
    [
        ("tagging_assets.batches.providers.openai_batches", "OpenAIBatches._create_batch", "the upload"),
        ("tagging_assets.batches.records", "RecordStore.save", "the batch is created"),
        ("tagging_assets.batches.steps", "mark_pending", "the record is saved"),
    ],
)
def test_a_submit_killed_at_any_point_then_rerun_makes_one_upload_and_one_batch(
    start_gateway,
    tmp_path,
    real_transcripts,
    module,
    crash_in,
    after,
    provider,
):
    gateway = start_gateway()
    env = user_env(tmp_path, gateway, provider)
    module, crash_in = crash_point(module, crash_in, provider)
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        seed_cache(cache, cache_items(real_transcripts, 12))
    assert run_cli(env, "prepare", "--output", str(tmp_path / "input.jsonl")).returncode == 0
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            PATCHED_SUBMIT.format(module=module, path=crash_in, input=str(tmp_path / "input.jsonl")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == 137, f"the submit should die after {after}: {killed.stderr[-500:]}"

    resumed = run_cli(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    assert resumed.returncode == 0, resumed.stderr
    again = run_cli(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    batches, uploads = batches_and_uploads(gateway)
    assert len(batches) == 1 and len(uploads) == UPLOADS[provider], (
        f"killed after {after}: {len(batches)} batches, {len(uploads)} uploads"
    )
    assert batches[0] in resumed.stdout and batches[0] in again.stdout
    assert {state.get("status") for state in statuses(tmp_path / "qdrant").values()} == {"pending"}


def test_responses_lost_on_the_way_back_never_make_a_second_upload_or_batch(
    start_gateway, tmp_path, real_transcripts, provider
):
    gateway = start_gateway(disconnect_every=2)
    env = user_env(tmp_path, gateway, provider)
    batch_id = seeded_and_submitted(env, tmp_path, cache_items(real_transcripts, 12))
    watched = run_cli(env, "status", "--batch-id", batch_id, "--watch")
    assert "completed 12/12" in watched.stdout, watched.stderr
    processed = run_cli(env, "process", "--batch-id", batch_id)
    assert "12 tagged, 0 failed" in processed.stdout, processed.stderr
    batches, uploads = batches_and_uploads(gateway)
    assert (len(batches), len(uploads)) == (1, UPLOADS[provider])


def test_429s_500s_and_dropped_connections_are_retried_through_the_whole_workflow(
    start_gateway,
    tmp_path,
    real_transcripts,
    provider,
):
    gateway = start_gateway(rate_limit_every=3, retry_after_seconds=0.1, server_error_every=5, disconnect_every=7)
    env = user_env(tmp_path, gateway, provider)
    batch_id = seeded_and_submitted(env, tmp_path, cache_items(real_transcripts, 20))
    assert "completed 20/20" in run_cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.2").stdout
    processed = run_cli(env, "process", "--batch-id", batch_id)
    assert "20 tagged, 0 failed" in processed.stdout, processed.stderr
    assert len(batches_and_uploads(gateway)[0]) == 1
    assert {state["status"] for state in statuses(tmp_path / "qdrant").values()} == {"tagged"}


def test_a_run_fails_with_one_clear_message_once_retries_are_spent(
    instance, start_gateway, seeded_cache, tmp_path, provider
):

    gateway = start_gateway(server_error_every=1)
    resources = resources_for(gateway, seeded_cache, tmp_path, provider)
    resources["batch_api"] = batch_api_for(gateway, provider, max_retries=1)
    assert "API answered 500" in failed_submit_message(instance, resources)
    assert not instance.get_dynamic_partitions("openai_batches")
    assert {state.get("status") for state in statuses(seeded_cache).values()} == {None}, "nothing marked pending"


@pytest.mark.parametrize(
    ("owner", "crash_in"),
    [
        ("tagging_assets.batches.providers.openai_batches.OpenAIBatches", "_create_batch"),
        ("tagging_assets.batches.records.RecordStore", "save"),
        ("tagging_assets.batches.steps", "mark_pending"),
    ],
)
def test_a_dagster_run_killed_mid_submit_resumes_with_one_upload_and_one_batch(
    instance,
    start_gateway,
    seeded_cache,
    tmp_path,
    monkeypatch,
    owner,
    crash_in,
    provider,
):
    gateway = start_gateway()
    resources = resources_for(gateway, seeded_cache, tmp_path, provider)
    job = build_definitions(resources).resolve_job_def("submit_batches")
    if crash_in == "_create_batch" and provider in CREATE_POINTS:
        module, path = CREATE_POINTS[provider]
        owner, crash_in = f"{module}.{path.split('.')[0]}", path.split(".")[1]

    def crash(*_args, **_kwargs):
        raise RuntimeError("the run died here")

    with monkeypatch.context() as patched:
        patched.setattr(f"{owner}.{crash_in}", crash)
        assert not job.execute_in_process(instance=instance, raise_on_error=False).success
    resumed = job.execute_in_process(instance=instance)
    batches, uploads = batches_and_uploads(gateway)
    assert (len(batches), len(uploads)) == (1, UPLOADS[provider])
    assert resumed.output_for_node("openai_batch_job")["batches"][0]["batch_id"] == batches[0]
    assert instance.get_dynamic_partitions("openai_batches") == batches
    assert {state["status"] for state in statuses(seeded_cache).values()} == {"pending"}


def test_a_gemini_create_whose_answer_is_lost_leaves_one_job_and_tags_every_item_once(
    start_gateway, tmp_path, real_transcripts
):
    # The submit's first request looks for the job by listing; its second, the create, is carried out and its
    # answer cut off (every second request is), so the submit cannot know the job was made. It finds the job by
    # listing its display name instead of sending the create again.
    gateway = start_gateway(disconnect_every=2)
    env = user_env(tmp_path, gateway, "gemini")
    batch_id = seeded_and_submitted(env, tmp_path, cache_items(real_transcripts, 12))
    created = {route: count for route, count in gateway.served().items() if route.endswith(":batchGenerateContent")}
    assert created == {"POST /v1/models/gemini-2.5-flash-lite:batchGenerateContent": 1}, "the create went out once"
    assert gateway.served()["GET /v1/batches"] > 1, "besides the search before the create, a look by listing"
    assert list(gateway.batches()) == [batch_id], "exactly one Gemini job exists"
    assert not any((tmp_path / "work" / "pending").glob("*.json")), "the pending note is cleared once recorded"
    watched = run_cli(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.2")
    assert "completed 12/12" in watched.stdout, watched.stderr
    processed = run_cli(env, "process", "--batch-id", batch_id)
    assert "12 tagged, 0 failed" in processed.stdout, processed.stderr
    assert list(gateway.batches()) == [batch_id]
    states = statuses(tmp_path / "qdrant").values()
    assert {(state["status"], state["attempts"]) for state in states} == {("tagged", 1)}, "each tagged once"
