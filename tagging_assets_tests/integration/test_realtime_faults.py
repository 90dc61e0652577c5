"""Realtime and flex jobs through faults, each made to happen at the gateway and seen through the SDKs: 429s with
their headers, 500s, cut connections, flex at capacity, a spent quota, and a run killed mid-way. Each test asserts
what the user sees and that nothing was lost or sent twice once answered (the gateway counts what reached it by
custom_id)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tagging_assets.cli.commands import main
from tagging_assets_tests.reading import statuses
from tagging_assets_tests.support import user_env


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def tagged(cache_path: Path) -> dict[str, dict]:
    return {video: state for video, state in statuses(cache_path).items() if state.get("status") == "tagged"}


def job_state(work_dir: Path) -> dict:
    [path] = (work_dir / "jobs").glob("*/job.json")
    return json.loads(path.read_text())


def test_429s_are_obeyed_with_their_headers_and_every_request_arrives_once(tmp_path, start_gateway, provider):
    gateway = start_gateway(requests_per_minute=120)
    env = user_env(tmp_path, gateway, provider, TAGGING_MODE="realtime", TAGGING_MAX_REQUESTS_PER_MINUTE="6000")
    assert cli(env, "seed-cache").exit_code == 0
    result = cli(env, "tag", "--limit", "8")
    assert result.exit_code == 0, result.stderr
    assert "8 tagged in 1 realtime job(s)" in result.stdout
    arrivals = gateway.realtime_arrivals()
    assert arrivals["429_by_reason"].get("requests", 0) > 0, "the project's limit is above the gateway's"
    assert sorted(arrivals["received"].values()) == [1] * 8, "each request reached the API once"
    assert job_state(tmp_path / "work")["rate_limited"] > 0
    assert len(tagged(tmp_path / "qdrant")) == 8


def test_the_projects_own_limit_at_the_gateways_provokes_no_429(tmp_path, start_gateway):
    gateway = start_gateway(requests_per_minute=600)
    env = user_env(tmp_path, gateway, "openai", TAGGING_MODE="realtime", TAGGING_MAX_REQUESTS_PER_MINUTE="600")
    assert cli(env, "seed-cache").exit_code == 0
    assert "12 tagged" in cli(env, "tag", "--limit", "12").stdout
    assert gateway.realtime_arrivals()["429_by_reason"] == {}


def test_server_errors_and_cut_connections_are_retried_until_every_item_is_tagged(tmp_path, start_gateway, provider):
    gateway = start_gateway(server_error_every=3, disconnect_every=4)
    env = user_env(tmp_path, gateway, provider, TAGGING_MODE="realtime")
    assert cli(env, "seed-cache").exit_code == 0
    result = cli(env, "tag", "--limit", "10")
    assert result.exit_code == 0, result.stderr
    assert "10 tagged in 1 realtime job(s)" in result.stdout
    assert job_state(tmp_path / "work")["retries"] > 0
    assert len(tagged(tmp_path / "qdrant")) == 10


def test_flex_at_capacity_is_retried_and_a_request_served_at_default_is_priced_at_default(tmp_path, start_gateway):
    gateway = start_gateway(flex_unavailable_rate=0.4, flex_served_default_rate=0.3)
    env = user_env(tmp_path, gateway, "openai", TAGGING_MODE="flex", TAGGING_MODEL="gpt-5.4-mini")
    assert cli(env, "seed-cache").exit_code == 0
    result = cli(env, "tag", "--limit", "10", "--json")
    assert result.exit_code == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert summary["tagged"] == 10 and summary["mode"] == "flex"
    assert gateway.realtime_arrivals()["429_by_reason"].get("flex_unavailable", 0) > 0
    assert summary["cost_flex_usd"] < summary["cost_billed_usd"] < summary["cost_realtime_usd"], (
        "the lines served at default are billed at standard prices, the rest at flex"
    )


def test_gemini_flex_asks_for_the_flex_tier_and_flex_at_capacity_is_retried(tmp_path, start_gateway):
    # Only a request sent with serviceTier "flex" can meet flex at capacity, so its 429s show the tier was asked.
    gateway = start_gateway(flex_unavailable_rate=0.4)
    env = user_env(tmp_path, gateway, "gemini", TAGGING_MODE="flex")
    assert cli(env, "seed-cache").exit_code == 0
    result = cli(env, "tag", "--limit", "10", "--json")
    assert result.exit_code == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert summary["tagged"] == 10 and summary["mode"] == "flex"
    assert gateway.realtime_arrivals()["429_by_reason"].get("flex_unavailable", 0) > 0
    assert summary["cost_flex_usd"] == summary["cost_billed_usd"] < summary["cost_realtime_usd"]
    assert len(tagged(tmp_path / "qdrant")) == 10


SPENT_QUOTA = {"openai": "insufficient_quota", "gemini": "You exceeded your current quota"}
"""How each API says a quota is spent: OpenAI by its code; Google by one message for every quota, its per-day
``QuotaFailure`` telling a spent day from a rate limit."""


@pytest.mark.parametrize("provider", list(SPENT_QUOTA))
def test_a_spent_quota_stops_the_job_in_one_line_and_a_later_run_sends_only_the_rest(tmp_path, start_gateway, provider):
    spent = start_gateway(quota_exhausted_after=3)
    env = user_env(tmp_path, spent, provider, TAGGING_MODE="realtime", TAGGING_MAX_CONCURRENCY="1")
    assert cli(env, "seed-cache").exit_code == 0
    stopped = cli(env, "tag", "--limit", "8")
    assert stopped.exit_code == 1
    [line] = stopped.stderr.strip().splitlines()[-1:]
    assert SPENT_QUOTA[provider] in line and "5 requests wait unanswered" in line, stopped.stderr
    assert not tagged(tmp_path / "qdrant"), "nothing is written back before the job has every answer"
    assert {state["status"] for state in statuses(tmp_path / "qdrant").values() if state} == {"pending"}
    topped_up = start_gateway()
    resumed = cli({**env, "TAGGING_GATEWAY_URL": topped_up.base_url}, "tag", "--limit", "8")
    assert resumed.exit_code == 0, resumed.stderr
    assert "8 tagged" in resumed.stdout
    assert sorted(topped_up.realtime_arrivals()["received"].values()) == [1] * 5, "only the unanswered were sent"


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_run_killed_mid_way_resumes_without_resending_what_was_answered(tmp_path, start_gateway, provider):
    gateway = start_gateway(latency_seconds=0.3)
    env = user_env(tmp_path, gateway, provider, TAGGING_MODE="realtime", TAGGING_MAX_CONCURRENCY="2")
    assert cli(env, "seed-cache").exit_code == 0
    run = subprocess.Popen(
        [sys.executable, "-m", "tagging_assets", "tag"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    work = tmp_path / "work"
    deadline = time.monotonic() + 120
    while not any(_lines(path) >= 6 for path in (work / "jobs").glob("*/output.jsonl")):
        assert time.monotonic() < deadline and run.poll() is None, "the run answered nothing"
        time.sleep(0.05)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert job_state(work)["status"] == "in_progress"
    resumed = cli(env, "tag")
    assert resumed.exit_code == 0, resumed.stderr
    assert "42 tagged in 1 realtime job(s)" in resumed.stdout
    received = gateway.realtime_arrivals()["received"]
    twice = sorted(custom_id for custom_id, count in received.items() if count > 1)
    assert len(received) == 42 and len(twice) <= 2, "only the requests in flight at the kill went out again"
    assert len(twice) <= job_state(work)["resent_after_crash"] <= 2, "counted and reported"
    assert len(tagged(tmp_path / "qdrant")) == 42


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.is_file() else 0
