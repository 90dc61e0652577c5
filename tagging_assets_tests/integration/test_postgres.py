"""The pipeline with Dagster's instance on a real PostgreSQL server, configured by deploy/dagster.yaml alone."""

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus

from tagging_assets_tests.servers import postgres_server
from tagging_assets_tests.support import user_env

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def test_the_pipeline_runs_with_its_instance_in_postgresql(tmp_path, shared_gateway, postgres_url, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY, home / "dagster.yaml")
    dagster_url = postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    env = user_env(tmp_path, shared_gateway, DAGSTER_HOME=str(home), DAGSTER_POSTGRES_URL=dagster_url)

    demo = subprocess.run(
        [sys.executable, "-m", "tagging_assets", "demo"], env=env, capture_output=True, text=True, timeout=600
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "42 of 43 videos tagged" in demo.stdout

    monkeypatch.setenv("DAGSTER_POSTGRES_URL", dagster_url)
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        runs = instance.get_runs()
        assert {run.job_name for run in runs} == {"submit_batches", "process_batch"}
        assert all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        batches = instance.get_dynamic_partitions("openai_batches")
        assert batches and instance.get_materialized_partitions(AssetKey("tagged_points")) == set(batches)
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM runs")
        assert cursor.fetchone()[0] == len(runs)
        cursor.execute("SELECT count(*) FROM event_logs WHERE asset_key LIKE '%tagged_points%'")
        assert cursor.fetchone()[0] > 0
    assert not list(home.glob("**/*.db")), "nothing of the instance is kept in SQLite files"
