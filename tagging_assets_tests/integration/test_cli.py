"""The command line end to end, as a user runs it: separate processes, the local gateway, embedded Qdrant."""

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from tagging_assets.core.cache import QdrantCache
from tagging_assets_tests.reading import stored_payloads
from tagging_assets_tests.support import transcripts_path, user_env


@pytest.fixture
def env(tmp_path, shared_gateway):
    return user_env(tmp_path, shared_gateway)


def run(env, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tagging_assets", *args], env=env, capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_seed_prepare_submit_status_process(env, tmp_path, shared_gateway):
    seeded = run(env, "seed-cache", "--source", str(transcripts_path()))
    assert seeded.returncode == 0, seeded.stderr
    assert "Added 105 transcripts to 'nate_content'" in seeded.stdout

    prepared = run(env, "prepare", "--collection", "nate_content", "--output", str(tmp_path / "input.jsonl"))
    assert prepared.returncode == 0, prepared.stderr
    assert "Scanning the cache" in prepared.stderr, "the progress bar's label, on stderr"
    assert "Scanned 105 points; 105 need tags." in prepared.stdout
    assert re.search(
        r"[\d,]+ input tokens, estimate \(4 characters a token\); the largest request [\d,]+\.", prepared.stdout
    )
    assert re.search(r"Expected cost: \$[\d.]+ with the Batch API \(\$[\d.]+ realtime\)", prepared.stdout)

    submitted = run(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    assert submitted.returncode == 0, submitted.stderr
    batch_id = re.search(r"Batch (batch_\w+)", submitted.stdout).group(1)
    assert re.search(r"105 requests \(input file file-\w+\), completion window 24h", submitted.stdout), "as the lesson"
    again = run(env, "submit", "--input", str(tmp_path / "input.jsonl"))
    assert f"Batch {batch_id}" in again.stdout, "the same file is submitted once"

    watched = run(env, "status", "--batch-id", batch_id, "--watch", "--interval", "0.2")
    assert watched.returncode == 0, watched.stderr
    assert f"Batch {batch_id}: completed 105/105 (100.0%), 0 failed" in watched.stdout

    processed = run(env, "process", "--batch-id", batch_id)
    assert processed.returncode == 0, processed.stderr
    assert f"Batch {batch_id} (completed): 105 tagged, 0 failed." in processed.stdout
    assert re.search(r"with the Batch API, \$[\d.]+ realtime \(saved \$[\d.]+\)", processed.stdout)

    rerun = run(env, "prepare", "--collection", "nate_content", "--output", str(tmp_path / "rerun.jsonl"))
    assert "0 need tags" in rerun.stdout and "skipped 105: up-to-date" in rerun.stdout
    rerun_json = json.loads(run(env, "prepare", "--output", str(tmp_path / "again.jsonl"), "--json").stdout)
    assert rerun_json["scanned"] == 105 and rerun_json["requests"] == 0
    assert rerun_json["skipped"] == {"up-to-date": 105} and rerun_json["expected_cost_batch_usd"] == 0
    state = json.loads(run(env, "status", "--batch-id", batch_id, "--json").stdout)
    assert state["status"] == "completed" and state["completed"] == state["total"] == 105
    assert state["estimated_seconds_left"] is None, "nothing is left of a finished batch"
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        payloads = [payload for _, payload in stored_payloads(cache, ["video_id", "tags", "summary", "tagging"])]
    assert all(p["tags"] and p["summary"] and p["tagging"]["status"] == "tagged" for p in payloads)

    in_cache = Counter(tag for payload in payloads for tag in payload["tags"])
    report = json.loads(run(env, "tags", "--json").stdout)
    assert report["tagged_videos"] == 105
    assert {row["tag"]: row["videos"] for row in report["tags"]} == in_cache
    [(top, count)] = in_cache.most_common(1)
    table = run(env, "tags", "--top", "5")
    assert table.returncode == 0 and re.search(rf"^{re.escape(top)} +{count}$", table.stdout, re.MULTILINE)
    assert f"{len(in_cache)} distinct tags on 105 tagged videos." in table.stdout

    found = json.loads(run(env, "search", "--tag", top, "--json").stdout)
    assert sorted(video["video_id"] for video in found) == sorted(p["video_id"] for p in payloads if top in p["tags"])
    assert all(top in video["tags"] and video["summary"] for video in found)
    listed = run(env, "search", "--tag", top)
    assert f"{count} video(s) tagged {top!r}." in listed.stdout
    nothing = run(env, "search", "--tag", "no-such-tag")
    assert nothing.returncode == 0 and "No video is tagged 'no-such-tag'" in nothing.stdout

    moved = tmp_path / "moved"
    source, destination = QdrantClient(path=env["QDRANT_PATH"]), QdrantClient(path=str(moved))
    source.migrate(destination, collection_names=["nate_content"])
    source.close()
    destination.close()
    after_move = json.loads(
        run({**env, "QDRANT_PATH": str(moved)}, "prepare", "--output", str(tmp_path / "moved.jsonl"), "--json").stdout
    )
    assert after_move["requests"] == 0 and after_move["skipped"] == {"up-to-date": 105}, (
        "a cache moved as the README says keeps its tags and is tagged (and billed) for nothing again"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["status", "--batch-id", "batch_unknown"],
            "error: batch batch_unknown is not known at the Batch API at http://127.0.0.1:",
        ),
        (["process", "--batch-id", "batch_unknown"], "error: no record of batch batch_unknown"),
        (
            ["prepare", "--collection", "missing", "--output", "x.jsonl"],
            "error: the collection 'missing' does not exist",
        ),
        (["submit", "--input", "missing.jsonl"], "error: no input file at missing.jsonl"),
        (["seed-cache", "--source", "missing.jsonl"], "error: missing.jsonl: no such file"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(env, tmp_path, args, message):
    result = run(env, *args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1


def test_a_malformed_source_file_names_its_line(env, tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"video_id": "a", "title": "t", "transcript": "x"}\n{oops\n')
    result = run(env, "seed-cache", "--source", str(source))
    assert result.returncode == 1
    assert f"error: {source}:2: not valid JSON" in result.stderr


def test_demo_runs_the_dagster_pipeline_end_to_end_and_again_safely(env, tmp_path):
    first = run(env, "demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Seeded 43 sample transcripts into 'nate_content'." in first.stdout
    assert re.search(r"Submitted 1 batch job\(s\): batch_\w+", first.stdout)
    assert "42 tagged, 0 failed" in first.stdout
    assert "42 of 43 videos tagged" in first.stdout
    assert re.search(r"sample-vector-databases +[a-z, -]*\bvector\b", first.stdout)
    assert "sample-missing-transcript" in first.stdout
    assert (Path(env["DAGSTER_HOME"]) / "dagster.yaml").is_file()

    second = run(env, "demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing new to tag" in second.stdout
    assert "This run: 0 batch job(s), 0 tokens (0 cached input, 0 reasoning), $0.000000" in second.stdout


def test_help_explains_the_commands_and_the_environment():
    result = subprocess.run([sys.executable, "-m", "tagging_assets", "--help"], capture_output=True, text=True)
    for text in (
        "seed-cache",
        "prepare",
        "submit",
        "status",
        "process",
        "gateway",
        "demo",
        "OPENAI_API_KEY",
        "QDRANT_PATH",
    ):
        assert text in result.stdout


def test_status_estimates_the_time_left_of_a_batch_in_progress(tmp_path, start_gateway, real_transcripts):
    from tagging_assets.seed.seeding import seed_cache
    from tagging_assets_tests.support import cache_items

    gateway = start_gateway(seconds_per_line=0.5, workers=1)
    env = user_env(tmp_path, gateway)
    with QdrantCache.connect("nate_content", path=env["QDRANT_PATH"]) as cache:
        seed_cache(cache, cache_items(real_transcripts, 30))
    assert run(env, "prepare", "--output", str(tmp_path / "input.jsonl")).returncode == 0
    batch_id = json.loads(run(env, "submit", "--input", str(tmp_path / "input.jsonl"), "--json").stdout)["batch_id"]
    while gateway.batches()[batch_id]["completed"] < 2:
        time.sleep(0.05)
    state = json.loads(run(env, "status", "--batch-id", batch_id, "--json").stdout)
    assert state["status"] == "in_progress" and state["estimated_seconds_left"] > 0
    shown = run(env, "status", "--batch-id", batch_id)
    assert re.search(r"Estimated time remaining: \d+ (s|min)", shown.stdout), shown.stdout


STATUS_LOADS = """
import sys
from click.testing import CliRunner
from tagging_assets.cli.commands import main
result = CliRunner().invoke(main, ["status", "--batch-id", sys.argv[1]])
assert result.exit_code == 0, result.output
print(sorted(name for name in ("openai", "anthropic", "qdrant_client", "dagster", "tiktoken") if name in sys.modules))
"""


def test_status_loads_only_its_providers_sdk(env, tmp_path, shared_gateway):
    from tagging_assets_tests.support import jsonl, request_line, submit

    batch = submit(shared_gateway.client(), jsonl([request_line("a", "Vector search.")]))
    loaded = subprocess.run(
        [sys.executable, "-c", STATUS_LOADS, batch.id], env=env, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "['openai']", "no Anthropic SDK, no Qdrant, no Dagster to read a status"


def test_status_on_anthropics_protocol_loads_no_openai_module(tmp_path, shared_gateway):
    from tagging_assets_tests.support import message_request

    batch = shared_gateway.anthropic_client().messages.batches.create(requests=[message_request("a", "Vector search.")])
    env = user_env(tmp_path, shared_gateway, "anthropic")
    loaded = subprocess.run(
        [sys.executable, "-c", STATUS_LOADS, batch.id], env=env, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "['anthropic']", "no OpenAI SDK, no Qdrant, no Dagster to read a status"
