"""TAGGING_PROMPT_FILE on every path (the command line, Dagster, the Python API), what a prompt change costs as
``prepare`` says it, and ``tag --preview``, which writes nothing: all through the SDKs against the gateway."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, prompt_version_for
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.definitions import build_definitions
from tagging_assets.defs.resources import TaggingResource
from tagging_assets_tests.reading import statuses
from tagging_assets_tests.support import resources_for, user_env

PROMPT = (
    'You tag cooking-show transcripts. Reply with JSON holding "tags" (3 to 5 lowercase hyphenated tags) and '
    '"summary" (one sentence).'
)


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def prompt_file(tmp_path: Path, text: str = PROMPT) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text(text + "\n")
    return path


def system_messages(request_file: Path) -> set[str]:
    lines = [json.loads(line) for line in request_file.read_text().splitlines()]
    return {message["content"] for line in lines for message in line["body"]["messages"] if message["role"] == "system"}


def tag_everything(env: dict[str, str]) -> int:
    """Seed the cache and tag all of it; how many items it holds."""
    assert cli(env, "seed-cache").exit_code == 0
    tagged = cli(env, "tag", "--mode", "realtime")
    found = re.search(r"^(\d+) tagged in 1 realtime job", tagged.stdout, re.MULTILINE)
    assert found, tagged.stderr
    return int(found.group(1))


def cache_bytes(cache_path: Path) -> bytes:
    """Every point's id, payload and vectors as the store holds them."""
    with QdrantCache.connect("nate_content", path=cache_path) as cache:
        points = cache.client.scroll("nate_content", limit=1000, with_payload=True, with_vectors=True)[0]
    return json.dumps(sorted((str(p.id), p.payload, p.vector) for p in points), sort_keys=True).encode()


def test_the_prompt_file_is_the_system_message_and_its_version_is_stored(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, TAGGING_PROMPT_FILE=str(prompt_file(tmp_path)))
    assert cli(env, "seed-cache").exit_code == 0
    prepared = cli(env, "prepare", "--limit", "3", "--output", str(tmp_path / "requests.jsonl"))
    assert prepared.exit_code == 0, prepared.stderr
    assert system_messages(tmp_path / "requests.jsonl") == {PROMPT}, "the file's text, its final newline dropped"
    tagged = cli(env, "tag", "--limit", "3", "--mode", "realtime")
    assert "3 tagged in 1 realtime job(s)" in tagged.stdout, tagged.stderr
    versions = {state.get("prompt_version") for state in statuses(tmp_path / "qdrant").values() if state}
    assert versions == {prompt_version_for(PROMPT)} and prompt_version_for(PROMPT).startswith("custom-")


def test_a_new_prompt_selects_every_item_again_and_prepare_says_how_many_and_the_cost(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway)
    items = tag_everything(env)
    unchanged = cli(env, "prepare", "--output", str(tmp_path / "none.jsonl"))
    assert "selected again for a new prompt" not in unchanged.stdout

    env["TAGGING_PROMPT_FILE"] = str(prompt_file(tmp_path))
    version = prompt_version_for(PROMPT)
    prepared = cli(env, "prepare", "--output", str(tmp_path / "again.jsonl"))
    assert prepared.exit_code == 0, prepared.stderr
    assert f"{items} selected again for a new prompt ({PROMPT_VERSION} → {version}): ~$" in prepared.stdout
    assert "at batch prices" in prepared.stdout
    as_json = json.loads(cli(env, "prepare", "--json", "--output", str(tmp_path / "again.jsonl")).stdout)
    change = as_json["selected_again_for_prompt"]
    assert as_json["selected"] == {"prompt-changed": items} and as_json["requests"] == items
    assert change["items"] == items and change["previous_prompt_versions"] == {PROMPT_VERSION: items}
    assert change["prompt_version"] == version
    assert change["input_tokens"] == as_json["input_tokens"] > 0
    assert change["expected_cost_batch_usd"] == as_json["expected_cost_batch_usd"] > 0
    states = [state for state in statuses(tmp_path / "qdrant").values() if state]
    assert len(states) == items and {state["status"] for state in states} == {"tagged"}, "prepare marks none pending"


def test_tag_preview_prints_current_and_new_tags_with_the_cost_and_writes_nothing(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, TAGGING_MODE="batch")
    assert cli(env, "seed-cache").exit_code == 0
    assert "2 tagged" in cli(env, "tag", "--limit", "2", "--mode", "realtime").stdout
    before = cache_bytes(tmp_path / "qdrant")
    jobs_before = sorted((tmp_path / "work" / "batches").iterdir())

    env["TAGGING_PROMPT_FILE"] = str(prompt_file(tmp_path))
    preview = cli(env, "tag", "--limit", "3", "--preview")
    assert preview.exit_code == 0, preview.stderr
    assert preview.stdout.count("  now:  ") == 3 and preview.stdout.count("  new:  ") == 3, preview.stdout
    assert "at realtime prices" in preview.stdout and "Nothing was written to the cache." in preview.stdout
    rows = json.loads(cli(env, "tag", "--limit", "3", "--preview", "--json").stdout)
    assert [row["error"] for row in rows["preview"]] == [None, None, None]
    assert all(row["new_tags"] for row in rows["preview"]) and rows["cost_realtime_usd"] > 0
    assert sum(bool(row["current_tags"]) for row in rows["preview"]) == 2, "the two tagged show their tags"

    assert cache_bytes(tmp_path / "qdrant") == before, "the cache's payloads are byte-identical"
    assert sorted((tmp_path / "work" / "batches").iterdir()) == jobs_before, "no record where the sensor looks"
    assert not any(state.get("status") == "pending" for state in statuses(tmp_path / "qdrant").values())
    assert list((tmp_path / "work" / "preview" / "jobs").glob("realtime-*/output.jsonl"))
    resumed = cli(env, "tag", "--limit", "1", "--mode", "realtime")
    assert "1 tagged in 1 realtime job(s)" in resumed.stdout, "the preview's job is no job for `tag` to finish"


def test_preview_samples_tagged_items_when_nothing_needs_tags(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway)
    tag_everything(env)
    before = cache_bytes(tmp_path / "qdrant")
    preview = cli(env, "tag", "--limit", "2", "--preview")
    assert preview.exit_code == 0, preview.stderr
    assert "Nothing needs tags; previewing items already tagged, to compare." in preview.stdout
    assert preview.stdout.count("  now:  ") == 2 and "(none)" not in preview.stdout
    assert cache_bytes(tmp_path / "qdrant") == before


def test_preview_refuses_another_mode_in_one_line(tmp_path, shared_gateway):
    refused = cli(user_env(tmp_path, shared_gateway), "tag", "--preview", "--mode", "batch")
    assert refused.exit_code == 2 and "--preview runs realtime, not --mode batch" in refused.stderr


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: None, "no file at"),
        (lambda path: path.write_text("  \n"), "is empty"),
        (lambda path: path.mkdir(), "cannot read"),
        (lambda path: path.write_bytes(b"\xff\xfe bad"), "not UTF-8 text"),
    ],
)
def test_a_bad_prompt_file_is_one_line_naming_the_variable_and_nothing_is_written(
    tmp_path, shared_gateway, make, problem
):
    path = tmp_path / "prompt.txt"
    make(path)
    env = user_env(tmp_path, shared_gateway, TAGGING_PROMPT_FILE=str(path))
    assert cli(env, "seed-cache").exit_code == 0
    prepare = ["prepare", "--output", str(tmp_path / "requests.jsonl")]
    for args in (prepare, ["tag", "--limit", "1"], ["tag", "--preview"]):
        failed = cli(env, *args)
        assert failed.exit_code == 1, args
        [line] = failed.stderr.strip().splitlines()
        assert line.startswith("error: invalid configuration: TAGGING_PROMPT_FILE: ") and problem in line, line
    assert not (tmp_path / "requests.jsonl").exists() and not (tmp_path / "work" / "batches").exists()
    assert all(not state for state in statuses(tmp_path / "qdrant").values())
    with pytest.raises(ConfigError, match="TAGGING_PROMPT_FILE"):
        TaggingResource.from_settings(TaggingSettings(prompt_file=path))


def test_dagster_takes_the_prompt_file_at_load_and_its_requests_carry_it(
    instance, shared_gateway, seeded_cache, tmp_path
):
    resources = resources_for(shared_gateway, seeded_cache, tmp_path, prompt_file=prompt_file(tmp_path))
    assert resources["tagging"].system_prompt == PROMPT
    assert resources["tagging"].plan(resources["batch_api"]).prompt_version == prompt_version_for(PROMPT)
    submitted = build_definitions(resources).resolve_job_def("submit_batches").execute_in_process(instance=instance)
    [batch] = submitted.output_for_node("openai_batch_job")["batches"]
    assert system_messages(Path(batch["input_file"])) == {PROMPT}
    assert resources_for(shared_gateway, seeded_cache, tmp_path)["tagging"].system_prompt is None, "unset: bundled"


def test_the_python_api_takes_the_prompt_file_and_an_explicit_prompt_wins(shared_gateway, seeded_cache, tmp_path):
    settings = TaggingSettings(work_dir=tmp_path / "work", prompt_file=prompt_file(tmp_path))
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, shared_gateway.client(), settings=settings)
        assert processor.prepare_batch_input(output_file=tmp_path / "from-file.jsonl") == 40
        assert processor.prepare_batch_input(system_prompt=SYSTEM_PROMPT, output_file=tmp_path / "given.jsonl") == 40
    assert system_messages(tmp_path / "from-file.jsonl") == {PROMPT}
    assert system_messages(tmp_path / "given.jsonl") == {SYSTEM_PROMPT}
