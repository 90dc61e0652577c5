"""A snapshot of what the project shows in Dagster: asset keys and lineage, checks, partitions, jobs, the sensor
and the schedule. A change to any of them is a change users see in the UI, so it shows in review as a diff of
snapshots/definitions.json; run with TAGGING_UPDATE_SNAPSHOT=1 to accept one. The instance settings that bound the
API's pool are checked here too."""

import json
import os
from pathlib import Path
from typing import Any

import yaml
from dagster import Definitions

from tagging_assets.core.settings import TaggingSettings
from tagging_assets.definitions import definitions_from_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _shape(defs: Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "partitions": getattr(node.partitions_def, "name", None),
            "pools": sorted(node.pools),
            "checks": sorted(check.name for check in graph.asset_check_keys if check.asset_key == key),
            "blocking_checks": sorted(
                check.name for check in graph.asset_check_keys if check.asset_key == key and graph.get(check).blocking
            ),
        }
    jobs = {
        job.name: {
            "assets": sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys),
            "tags": dict(job.tags),
        }
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__")
    }
    sensors = {
        sensor.name: {
            "jobs": sorted(job.name for job in sensor.jobs),
            "default_status": sensor.default_status.value,
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
        }
        for sensor in defs.sensors or []
    }
    schedules = {
        schedule.name: {
            "job": schedule.job_name,
            "cron": schedule.cron_schedule,
            "default_status": schedule.default_status.value,
        }
        for schedule in defs.schedules or []
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "sensors": sensors,
        "schedules": schedules,
        "resources": sorted(defs.resources or {}),
    }


def test_definitions_match_the_snapshot() -> None:
    shape = _shape(definitions_from_settings(TaggingSettings()))
    if os.environ.get("TAGGING_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(shape, indent=2) + "\n")
    assert shape == json.loads(SNAPSHOT.read_text())


def test_the_schedule_follows_the_settings() -> None:
    shape = _shape(definitions_from_settings(TaggingSettings(submit_cron="*/15 * * * *")))
    assert shape["schedules"]["submit_new_and_stale"]["cron"] == "*/15 * * * *"


def test_the_module_that_dagster_and_dg_load_is_valid() -> None:
    from tagging_assets.definitions import defs

    Definitions.validate_loadable(defs)
    assert _shape(defs)["assets"].keys() == json.loads(SNAPSHOT.read_text())["assets"].keys()


def test_the_api_pool_is_bounded_and_a_dead_runs_slot_is_freed_in_both_instance_settings() -> None:
    for path in (Path("tagging_assets/dagster.yaml"), Path("deploy/dagster.yaml")):
        config = yaml.safe_load((Path(__file__).parents[2] / path).read_text())
        assert config["concurrency"]["pools"]["default_limit"] == 1, path
        assert config["run_monitoring"]["enabled"] and config["run_monitoring"]["free_slots_after_run_end_seconds"]
