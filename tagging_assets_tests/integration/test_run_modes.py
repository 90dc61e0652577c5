"""Every way to pay for tags, end to end through each provider's SDK against the gateway: realtime and flex jobs,
``auto`` on both sides of its threshold, ``tag --limit 5``, and the mode refused where it cannot run. Faults on
the way (429s, 500s, cut connections, flex at capacity, a spent quota, a killed run) are in
``test_realtime_faults.py``."""

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result
from dagster import AssetKey

from tagging_assets.cli.commands import main
from tagging_assets.definitions import build_definitions
from tagging_assets_tests.reading import statuses
from tagging_assets_tests.support import resources_for, run_sensor, user_env

REALTIME_ROUTES = ("/chat/completions", "/responses", "/messages", ":generateContent")
BATCH_CREATES = ("batches", ":batchGenerateContent")


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def realtime_calls(served: dict[str, int]) -> int:
    return sum(count for route, count in served.items() if route.startswith("POST") and route.endswith(REALTIME_ROUTES))


def batch_calls(served: dict[str, int]) -> int:
    return sum(
        count
        for route, count in served.items()
        if route.startswith("POST") and any(part in route for part in BATCH_CREATES)
    )


def tagged_by_job(cache_path: Path) -> dict[str, str]:
    """Each tagged video's job id."""
    return {
        video: state["batch_id"] for video, state in statuses(cache_path).items() if state.get("status") == "tagged"
    }


def job_lines(work_dir: Path, job_id: str) -> list[dict]:
    return [json.loads(line) for line in (work_dir / "jobs" / job_id / "output.jsonl").read_text().splitlines()]


def test_tag_limit_5_realtime_tags_five_videos_with_realtime_calls_and_no_batch(tmp_path, shared_gateway, provider):
    env = user_env(tmp_path, shared_gateway, provider)
    assert cli(env, "seed-cache").exit_code == 0
    before = shared_gateway.served()
    tagged = cli(env, "tag", "--limit", "5", "--mode", "realtime")
    assert tagged.exit_code == 0, tagged.stderr
    assert "5 tagged in 1 realtime job(s)" in tagged.stdout
    assert re.search(r"\$[\d.]+ at realtime prices \(\$[\d.]+ batch", tagged.stdout), tagged.stdout
    served = {route: count - before.get(route, 0) for route, count in shared_gateway.served().items()}
    assert realtime_calls(served) == 5 and batch_calls(served) == 0, served
    jobs = tagged_by_job(tmp_path / "qdrant")
    assert len(jobs) == 5 and len(set(jobs.values())) == 1 and next(iter(jobs.values())).startswith("realtime-")
    status = cli(env, "status", "--batch-id", next(iter(jobs.values())), "--json")
    assert json.loads(status.stdout)["status"] == "completed" and json.loads(status.stdout)["completed"] == 5


def test_flex_runs_on_the_flex_tier_and_is_priced_at_batch_rates(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "openai", TAGGING_MODEL="gpt-5.4-mini", TAGGING_MODE="flex")
    assert cli(env, "seed-cache").exit_code == 0
    tagged = cli(env, "tag", "--limit", "5")
    assert tagged.exit_code == 0, tagged.stderr
    assert "5 tagged in 1 flex job(s)" in tagged.stdout
    assert re.search(r"\$[\d.]+ at flex prices \(\$[\d.]+ batch, \$[\d.]+ realtime\)", tagged.stdout), tagged.stdout
    [job_id] = set(tagged_by_job(tmp_path / "qdrant").values())
    assert job_id.startswith("flex-")
    assert {line["response"]["body"]["service_tier"] for line in job_lines(tmp_path / "work", job_id)} == {"flex"}


def test_flex_is_refused_at_prepare_for_a_model_without_it_naming_the_modes_it_has(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "openai", TAGGING_MODEL="gpt-4o-mini", TAGGING_MODE="flex")
    assert cli(env, "seed-cache").exit_code == 0
    prepared = cli(env, "prepare", "--output", str(tmp_path / "requests.jsonl"))
    assert prepared.exit_code == 1
    assert prepared.stderr.strip() == (
        "error: invalid configuration: TAGGING_MODE=flex: gpt-4o-mini does not take flex processing; it runs in "
        "batch, realtime or auto"
    )
    assert not (tmp_path / "requests.jsonl").exists()


def test_impossible_and_unknown_modes_are_one_line_naming_the_choices(tmp_path, shared_gateway):
    anthropic_flex = cli(user_env(tmp_path, shared_gateway, "anthropic", TAGGING_MODE="flex"), "tag")
    assert anthropic_flex.exit_code == 1
    assert anthropic_flex.stderr.strip() == (
        "error: invalid configuration: TAGGING_MODE: flex is OpenAI's, Azure's and Gemini's; anthropic takes batch, "
        "realtime or auto"
    )
    unknown = cli(user_env(tmp_path, shared_gateway, "openai", TAGGING_MODE="fast"), "tag")
    assert unknown.exit_code == 1
    assert "TAGGING_MODE: Input should be 'batch', 'flex', 'realtime' or 'auto'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_auto_runs_realtime_below_its_threshold_and_a_batch_from_it(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "openai", TAGGING_MODE="auto", TAGGING_REALTIME_BELOW="4")
    assert cli(env, "seed-cache").exit_code == 0
    below = cli(env, "tag", "--limit", "3")
    assert "3 tagged in 1 realtime job(s)" in below.stdout, below.stderr
    at = cli(env, "tag", "--limit", "4")
    assert "4 tagged in 1 batch job(s)" in at.stdout, at.stderr
    jobs = tagged_by_job(tmp_path / "qdrant")
    assert sorted(job.split("-")[0].split("_")[0] for job in set(jobs.values())) == ["batch", "realtime"]


def test_a_realtime_job_in_dagster_is_a_partition_processed_like_a_batch(
    instance, shared_gateway, seeded_cache, tmp_path, provider
):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path, provider, mode="realtime")
    project = build_definitions(resources)
    submitted = project.resolve_job_def("submit_batches").execute_in_process(instance=instance)
    submission = submitted.output_for_node("openai_batch_job")
    [job] = submission["batches"]
    assert job["batch_id"].startswith("realtime-") and submission["mode"] == "realtime"
    materialization = instance.get_latest_materialization_event(AssetKey("openai_batch_job")).asset_materialization
    assert materialization.metadata["mode"].value == "realtime"
    result = run_sensor(instance, resources)
    [request] = result.run_requests
    assert request.partition_key == job["batch_id"] and request.run_key == f"{job['batch_id']}:completed"
    processed = project.resolve_job_def("process_batch").execute_in_process(
        instance=instance, partition_key=job["batch_id"]
    )
    assert processed.output_for_node("tagged_points")["tagged"] == 40
    assert all(
        evaluation.passed
        for evaluation in processed.get_asset_check_evaluations()
        if evaluation.check_name != "tag_vocabulary_coherent"
    ), "the vocabulary check only warns, of the tagger's choices"
    assert {state["status"] for state in statuses(seeded_cache).values()} == {"tagged"}


def azure_realtime_env(tmp_path: Path, gateway, **extra: str) -> dict[str, str]:
    """Azure at the gateway, realtime and flex calls naming the standard deployment ``tagging-now``."""
    return user_env(
        tmp_path,
        gateway,
        "azure",
        AZURE_OPENAI_ENDPOINT=f"http://127.0.0.1:{gateway.port}",
        AZURE_OPENAI_API_KEY="azure-key",
        TAGGING_AZURE_REALTIME_DEPLOYMENT="tagging-now",
        **extra,
    )


def test_azure_realtime_calls_name_the_standard_deployment_not_the_global_batch_one(tmp_path, start_gateway):
    gateway = start_gateway(api_key="azure-key", azure_deployments="tagging-batch=gpt-4o-mini,tagging-now=gpt-4o-mini")
    env = azure_realtime_env(tmp_path, gateway, TAGGING_AZURE_DEPLOYMENT="tagging-batch")
    assert cli(env, "seed-cache").exit_code == 0
    tagged = cli(env, "tag", "--limit", "3", "--mode", "realtime")
    assert "3 tagged in 1 realtime job(s)" in tagged.stdout, tagged.stderr
    served = gateway.served()
    assert served.get("POST /openai/deployments/tagging-now/chat/completions") == 3, served
    assert not [route for route in served if "tagging-batch" in route or "batches" in route], served


def test_azure_flex_goes_to_the_standard_deployment_on_the_flex_tier(tmp_path, start_gateway):
    gateway = start_gateway(api_key="azure-key", azure_deployments="tagging-now=gpt-5.4-mini")
    env = azure_realtime_env(tmp_path, gateway, TAGGING_MODEL="gpt-5.4-mini")
    assert cli(env, "seed-cache").exit_code == 0
    tagged = cli(env, "tag", "--limit", "3", "--mode", "flex")
    assert "3 tagged in 1 flex job(s)" in tagged.stdout, tagged.stderr
    assert gateway.served().get("POST /openai/deployments/tagging-now/chat/completions") == 3
    [job_id] = set(tagged_by_job(tmp_path / "qdrant").values())
    assert {line["response"]["body"]["service_tier"] for line in job_lines(tmp_path / "work", job_id)} == {"flex"}


def test_the_lessons_four_commands_run_a_realtime_job_priced_at_realtime(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, "openai", TAGGING_MODE="realtime")
    assert cli(env, "seed-cache").exit_code == 0
    requests = tmp_path / "five.jsonl"
    prepared = cli(env, "prepare", "--limit", "5", "--output", str(requests))
    assert "5 need tags" in prepared.stdout and len(requests.read_text().splitlines()) == 5
    assert re.search(
        r"Expected cost: \$[\d.]+ at realtime prices \(TAGGING_MODE=realtime; \$[\d.]+ with", prepared.stdout
    )
    submitted = cli(env, "submit", "--input", str(requests))
    assert submitted.exit_code == 0, submitted.stderr
    [job_id] = re.findall(r"Job (realtime-\w+): completed, 5 realtime requests, 5 answered", submitted.stdout)
    assert cli(env, "status", "--batch-id", job_id).stdout.startswith(f"Realtime job {job_id}: completed 5/5")
    processed = cli(env, "process", "--batch-id", job_id)
    assert "5 tagged, 0 failed." in processed.stdout
    assert re.search(r"\$[\d.]+ at realtime prices \(\$[\d.]+ batch", processed.stdout), processed.stdout
