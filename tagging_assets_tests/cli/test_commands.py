"""The commands in process (click's runner) on embedded Qdrant: what needs no gateway. The subprocess runs, with
the gateway, are in integration/test_cli.py."""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets_tests.reading import stored_payloads


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "QDRANT_PATH": str(tmp_path / "qdrant"),
        "TAGGING_WORK_DIR": str(tmp_path / "work"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def seeded(env: dict[str, str], tmp_path: Path, real_transcripts: list[dict[str, Any]]) -> dict[str, str]:
    """Twelve real transcripts, nine of them typed youtube_video (as seeding types them) and three podcast."""
    source = tmp_path / "source.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in real_transcripts[:12]))
    result = invoke(env, "seed-cache", "--source", str(source))
    assert result.exit_code == 0, result.stderr
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        point_ids = sorted((point_id for point_id, _ in stored_payloads(cache, ["video_id"])), key=str)
        assert cache.set_payloads((point_id, {"type": "podcast"}) for point_id in point_ids[:3]) == 3
    return env


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TAGGING_MAX_ATTEMPTS", "three", "TAGGING_MAX_ATTEMPTS"),
        ("TAGGING_MAX_COST_USD", "-1", "TAGGING_MAX_COST_USD"),
        ("TAGGING_SUBMIT_CRON", "every hour", "TAGGING_SUBMIT_CRON"),
        ("TAGGING_ENDPOINT", "/v1/completions", "TAGGING_ENDPOINT"),
        ("TAGGING_REASONING_EFFORT", "extreme", "TAGGING_REASONING_EFFORT"),
        ("TAGGING_FILE_TTL_DAYS", "90", "TAGGING_FILE_TTL_DAYS: Input should be less than or equal to 30"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_its_variable(
    env: dict[str, str], variable: str, value: str, message: str
) -> None:
    result = invoke({**env, variable: value}, "tags")
    assert result.exit_code != 0
    [line] = error_lines(result)
    assert message in line and "Traceback" not in result.stderr


def test_where_filters_prepare_by_payload_field(
    seeded: dict[str, str], tmp_path: Path, real_transcripts: list[dict[str, Any]]
) -> None:
    videos = json.loads(
        invoke(
            seeded, "prepare", "--output", str(tmp_path / "v.jsonl"), "--where", "type=youtube_video", "--json"
        ).stdout
    )
    podcasts = json.loads(
        invoke(seeded, "prepare", "--output", str(tmp_path / "p.jsonl"), "--where", "type=podcast", "--json").stdout
    )
    assert (videos["requests"], podcasts["requests"]) == (9, 3)
    custom_ids = {
        json.loads(line)["custom_id"]
        for path in (tmp_path / "v.jsonl", tmp_path / "p.jsonl")
        for line in path.read_text().splitlines()
    }
    assert custom_ids == {f"youtube:{item['video_id']}" for item in real_transcripts[:12]}


def test_a_malformed_where_names_the_form_it_wants(seeded: dict[str, str], tmp_path: Path) -> None:
    result = invoke(seeded, "prepare", "--output", str(tmp_path / "x.jsonl"), "--where", "type")
    assert result.exit_code != 0
    assert error_lines(result) == [
        "error: --where 'type': expected FIELD=VALUE, e.g. --where type=youtube_video",
    ]
    assert not (tmp_path / "x.jsonl").exists()


def test_an_untagged_cache_says_how_to_get_tags(seeded: dict[str, str]) -> None:
    result = invoke(seeded, "tags")
    assert result.exit_code == 0
    assert "No video has tags yet" in result.stdout
    assert json.loads(invoke(seeded, "tags", "--json").stdout) == {
        "tagged_videos": 0,
        "figures": {
            "distinct_tags": 0,
            "tagged_videos": 0,
            "single_video_tags": 0,
            "single_video_tag_share": 0.0,
            "videos_sharing_a_tag": 0,
            "videos_sharing_a_tag_share": 0.0,
        },
        "tags": [],
    }


def test_an_effort_the_model_does_not_take_is_one_line_and_writes_nothing(seeded: dict[str, str], tmp_path: Path):
    env = {**seeded, "TAGGING_MODEL": "gpt-5-mini", "TAGGING_REASONING_EFFORT": "none"}
    result = invoke(env, "prepare", "--output", str(tmp_path / "requests.jsonl"))
    assert result.exit_code != 0
    [line] = error_lines(result)
    assert line == (
        "error: invalid configuration: TAGGING_REASONING_EFFORT=none: gpt-5-mini accepts minimal, low, medium, high"
    )
    assert not (tmp_path / "requests.jsonl").exists()


HELP_LOADS = """
import sys
from click.testing import CliRunner
from tagging_assets.cli.commands import main
for args in (["--help"], ["status", "--help"], ["prepare", "--help"], ["gateway", "--help"], ["status"]):
    CliRunner().invoke(main, args)
print(sorted(name for name in ("openai", "anthropic", "qdrant_client", "dagster", "tiktoken") if name in sys.modules))
"""


def test_help_and_usage_errors_load_no_sdk_no_qdrant_and_no_dagster():
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", HELP_LOADS], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]", "only the commands that use them load the SDKs, Qdrant and Dagster"


def test_the_time_left_is_estimated_from_the_pace_since_the_requests_began():
    from tagging_assets.core.contracts import BatchStatus

    running = BatchStatus(
        batch_id="batch_x",
        status="in_progress",
        total=42,
        completed=10,
        failed=4,
        progress_pct=33.3,
        output_file_id=None,
        error_file_id=None,
        created_at=900,
        in_progress_at=1000,
    )
    assert running.seconds_left(now=1070) == pytest.approx(28 * 70 / 14)
    for unknown in ({"completed": 0, "failed": 0}, {"in_progress_at": None}, {"status": "finalizing"}):
        assert running.model_copy(update=unknown).seconds_left(now=1070) is None
