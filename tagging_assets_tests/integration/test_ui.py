"""The Dagster web UI, headless: `dagster dev` on a free port after a demo run over several batches and a batch
caught in flight, checked over GraphQL and in Debian's Chromium, which saves screenshots of the asset graph, the
batch in flight and tagged_points (TAGGING_SCREENSHOT_DIR keeps copies)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance

from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.definitions import build_definitions
from tagging_assets.defs.resources import resources_from_settings
from tagging_assets.seed.seeding import seed_cache
from tagging_assets_tests.servers import chromium, dagster_dev, graphql
from tagging_assets_tests.support import Gateway, cache_items, run_sensor, user_env

# The tests share one `dagster dev`; the group keeps them on one pytest-xdist worker, so it starts once.
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
CHECKS = {
    "batch_input_is_valid",
    "every_request_accounted_for",
    "tags_follow_format",
    "cache_agrees_with_results",
    "tag_vocabulary_coherent",
}

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
def ui(tmp_path_factory, real_transcripts):
    """A demo run over three batches recorded in a fresh Dagster home, then a fourth batch caught in flight by a
    sensor tick, then `dagster dev` serving it all while that batch runs on; yields the UI's URL, the folder, the
    demo's batches and the batch in flight."""
    folder = tmp_path_factory.mktemp("ui")
    state = folder / "gateway"
    state.mkdir()
    with (folder / "gateway.log").open("ab") as log:
        with Gateway(state, log=log) as gateway:
            port = gateway.port
            env = user_env(folder, gateway, TAGGING_MAX_REQUESTS_PER_FILE="15")
            demo = subprocess.run(
                [sys.executable, "-m", "tagging_assets", "demo"], env=env, capture_output=True, text=True, timeout=600
            )
            assert demo.returncode == 0, demo.stderr[-3000:]
        # The same gateway state on the same port, now slow, so the next batch is still running when it is shown:
        # `dagster dev`'s own sensor ticks meanwhile, and a batch finished by then would show as completed.
        with Gateway(state, {"seconds_per_line": 8.0, "workers": 1}, port=port, log=log) as slow:
            demo_batches, in_flight = _a_batch_caught_in_flight(env, slow, cache_items(real_transcripts, 14))
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
            with dagster_dev(env, ROOT, folder / "dagster-dev.log") as url:
                yield url, folder, demo_batches, in_flight


def _a_batch_caught_in_flight(env: dict[str, str], gateway: Gateway, items: list) -> tuple[list[str], str]:
    """Seed more transcripts, submit them as Dagster would, and let one sensor tick record the batch's progress
    while it runs; the demo's batches and the new batch's id."""
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        seed_cache(cache, items)
    resources = resources_from_settings(TaggingSettings.from_env(env))
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        demo_batches = instance.get_dynamic_partitions("openai_batches")
        submitted = build_definitions(resources).resolve_job_def("submit_batches").execute_in_process(instance=instance)
        [batch] = submitted.output_for_node("openai_batch_job")["batches"]
        while gateway.batches()[batch["batch_id"]]["completed"] < 1:
            time.sleep(0.05)
        for observation in run_sensor(instance, resources).asset_events:
            instance.report_runless_asset_event(observation)  # what the daemon does with a tick's events
    return demo_batches, batch["batch_id"]


def test_graphql_shows_the_assets_their_lineage_the_checks_the_sensor_and_the_schedule(ui):
    url, _, _, _ = ui
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


def _page(folder: Path, url: str, path: str, name: str, expected: list[str], height: int = 900) -> None:
    """Open one page of the UI in headless Chromium, check that it shows ``expected``, and save its screenshot
    as ``name`` (into TAGGING_SCREENSHOT_DIR too, when set)."""
    browser = chromium()
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
        f"--user-data-dir={folder / 'chromium-profile'}",
        f"--window-size=1600,{height}",
        "--virtual-time-budget=20000",
    ]
    graphql(url, "mutation { setNuxSeen }")  # what the first visit's "Skip" on Dagster's welcome dialog does
    page = f"{url}{path}"
    dom = subprocess.run([browser, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    missing = [text for text in expected if text not in dom.stdout]
    assert not missing, f"not on {path}: {missing}"
    screenshot = folder / name
    shot = subprocess.run(
        [browser, *flags, f"--screenshot={screenshot}", page], capture_output=True, text=True, timeout=180
    )
    assert shot.returncode == 0 and screenshot.stat().st_size > 20_000, shot.stderr[-2000:]
    if keep := os.environ.get("TAGGING_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(keep) / name)


def test_chromium_shows_the_asset_graph_and_saves_a_screenshot(ui):
    url, folder, _, _ = ui
    _page(folder, url, "/asset-groups", "asset-graph.png", sorted(ASSETS))


def test_chromium_shows_a_batch_in_flight_with_its_progress(ui):
    url, folder, _, batch_id = ui
    path = f"/assets/batch_results_raw?view=events&partition={batch_id}"
    _page(folder, url, path, "batch-in-flight.png", [batch_id, "progress_pct", "in_progress"])


def test_chromium_shows_tagged_points_with_its_cost_and_tags_over_several_batches(ui):
    url, folder, demo_batches, _ = ui
    assert len(demo_batches) == 3
    path = f"/assets/tagged_points?view=partitions&partition={demo_batches[0]}"
    expected = [*demo_batches, "cost_batch_usd", "sample_tags", "gpt-4o-mini"]
    _page(folder, url, path, "tagged-points.png", expected, height=1500)
