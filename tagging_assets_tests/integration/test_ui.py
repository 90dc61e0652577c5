"""The Dagster web UI, headless: `dagster dev` on a free port after a demo run, checked over GraphQL and in
Debian's Chromium, which saves a screenshot of the asset graph (TAGGING_SCREENSHOT_DIR keeps a copy)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tagging_assets_tests.servers import chromium, dagster_dev, graphql
from tagging_assets_tests.support import user_env

# Both tests share one `dagster dev`; the group keeps them on one pytest-xdist worker, so it starts once.
pytestmark = pytest.mark.xdist_group("dagster-dev")

ROOT = Path(__file__).resolve().parents[2]
ASSETS = {"cached_transcripts", "batch_input_jsonl", "openai_batch_job", "batch_results_raw", "tagged_points"}
LINEAGE = {
    "cached_transcripts": set(),
    "batch_input_jsonl": {"cached_transcripts"},
    "openai_batch_job": {"batch_input_jsonl"},
    "batch_results_raw": {"openai_batch_job"},
    "tagged_points": {"batch_results_raw"},
}
CHECKS = {"batch_input_is_valid", "every_request_accounted_for", "tags_follow_format", "cache_agrees_with_results"}

REPOSITORY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        sensors { name sensorState { status } }
        schedules { name scheduleState { status } }
        assetNodes {
          assetKey { path }
          dependencyKeys { path }
          groupName
          kinds
          description
          assetChecksOrError { ... on AssetChecks { checks { name description } } }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory, shared_gateway):
    """A demo run recorded in a fresh Dagster home, then `dagster dev` serving it."""
    folder = tmp_path_factory.mktemp("ui")
    env = user_env(folder, shared_gateway)
    demo = subprocess.run(
        [sys.executable, "-m", "tagging_assets", "demo"], env=env, capture_output=True, text=True, timeout=600
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with dagster_dev(env, ROOT, folder / "dagster-dev.log") as url:
        yield url, folder


def test_graphql_shows_the_assets_their_lineage_the_checks_the_sensor_and_the_schedule(ui):
    url, _ = ui
    [repository] = graphql(url, REPOSITORY)["repositoriesOrError"]["nodes"]
    nodes = {node["assetKey"]["path"][-1]: node for node in repository["assetNodes"]}
    assert set(nodes) == ASSETS
    assert {name: {key["path"][-1] for key in node["dependencyKeys"]} for name, node in nodes.items()} == LINEAGE
    assert all(node["groupName"] == "tagging" and node["description"] and node["kinds"] for node in nodes.values())
    checks = {
        check["name"]: check["description"]
        for node in nodes.values()
        for check in node["assetChecksOrError"].get("checks", [])
    }
    assert set(checks) == CHECKS and all(checks.values())
    assert {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]} == {"batch_status_sensor": "RUNNING"}
    assert [s["name"] for s in repository["schedules"]] == ["submit_new_and_stale"]


def test_chromium_shows_the_asset_graph_and_saves_a_screenshot(ui):
    url, folder = ui
    browser = chromium()
    profile = folder / "chromium-profile"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1600,900",
        "--virtual-time-budget=20000",
    ]
    graphql(url, "mutation { setNuxSeen }")  # what the first visit's "Skip" on Dagster's welcome dialog does
    page = f"{url}/asset-groups"
    dom = subprocess.run([browser, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    missing = [name for name in ASSETS if name not in dom.stdout]
    assert not missing, f"not on the page: {missing}"
    screenshot = folder / "asset-graph.png"
    shot = subprocess.run(
        [browser, *flags, f"--screenshot={screenshot}", page], capture_output=True, text=True, timeout=180
    )
    assert shot.returncode == 0 and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    if keep := os.environ.get("TAGGING_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(keep) / "asset-graph.png")
