"""The command line and the Dagster assets take one path through the same steps: they write the same request lines
for the same cache, refuse the same submission for its cost before anything is uploaded, and carry the prompt
they are given; and a batch still running is written back by neither."""

import json

import pytest
from click.testing import CliRunner, Result
from dagster import materialize

from tagging_assets.batches.processor import BatchProcessor
from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.errors import BatchError
from tagging_assets.core.prompt import prompt_version_for
from tagging_assets.core.shards import read_index
from tagging_assets.defs.assets import batch_input_jsonl, cached_transcripts
from tagging_assets.defs.resources import TaggingResource
from tagging_assets_tests.support import failed_submit_message, resources_for, user_env

CAP = "0.0001"


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def api_env(tmp_path, gateway, seeded_cache, **extra: str) -> dict[str, str]:
    """The command line's environment for the same cache and API the Dagster resources name."""
    return user_env(
        tmp_path,
        gateway,
        OPENAI_BASE_URL=gateway.base_url,
        OPENAI_API_KEY="sk-test",
        QDRANT_PATH=str(seeded_cache),
        TAGGING_WORK_DIR=str(tmp_path / "cli-work"),
        **extra,
    )


def uploads(gateway) -> int:
    return len(list(gateway.client().files.list()))


def test_the_command_line_and_the_assets_write_byte_identical_request_lines(
    instance, shared_gateway, seeded_cache, tmp_path
):
    prepared = cli(api_env(tmp_path, shared_gateway, seeded_cache), "prepare", "--output", str(tmp_path / "cli.jsonl"))
    assert prepared.exit_code == 0, prepared.stderr
    resources = resources_for(shared_gateway, seeded_cache, tmp_path)
    result = materialize([cached_transcripts, batch_input_jsonl], resources=resources, instance=instance)
    [shard] = result.output_for_node("batch_input_jsonl").shards
    assert shard.path.read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    assert shard.requests == 40
    assert read_index(shard.index_path) == read_index(tmp_path / "cli.index.jsonl")


def test_both_paths_refuse_a_submission_over_the_cost_cap_before_any_upload(
    instance, start_gateway, seeded_cache, tmp_path
):
    gateway = start_gateway()
    env = api_env(tmp_path, gateway, seeded_cache)
    assert cli(env, "prepare", "--output", str(tmp_path / "cli.jsonl")).exit_code == 0
    refused = CliRunner().invoke(
        main, ["submit", "--input", str(tmp_path / "cli.jsonl")], env=env | {"TAGGING_MAX_COST_USD": CAP}
    )
    assert refused.exit_code == 1
    assert "this submission (40 requests) would cost about" in refused.stderr
    assert f"over the cap of ${float(CAP):,.4f} (TAGGING_MAX_COST_USD)" in refused.stderr
    assert uploads(gateway) == 0

    resources = resources_for(gateway, seeded_cache, tmp_path, max_cost_usd=float(CAP))
    message = failed_submit_message(instance, resources)
    assert "this submission (40 requests) would cost about" in message and "TAGGING_MAX_COST_USD" in message
    assert uploads(gateway) == 0 and list(gateway.client().batches.list()) == []


def test_a_prompt_given_to_the_dagster_resource_reaches_every_request(instance, shared_gateway, seeded_cache, tmp_path):
    prompt = "Tag each transcript for a library of engineering talks. Reply with tags and a summary."
    resources = resources_for(shared_gateway, seeded_cache, tmp_path)
    resources["tagging"] = TaggingResource(
        **resources["tagging"].model_dump(exclude={"system_prompt"}), system_prompt=prompt
    )
    result = materialize([cached_transcripts, batch_input_jsonl], resources=resources, instance=instance)
    [shard] = result.output_for_node("batch_input_jsonl").shards
    lines = [json.loads(line) for line in shard.path.read_text(encoding="utf-8").splitlines()]
    assert {line["body"]["messages"][0]["content"] for line in lines} == {prompt}
    assert shard.prompt_version == prompt_version_for(prompt)


def test_a_batch_still_running_is_not_processed_and_its_items_stay_pending(start_gateway, seeded_cache, tmp_path):
    gateway = start_gateway(seconds_per_line=5, workers=1)
    with QdrantCache.connect("nate_content", path=seeded_cache) as cache:
        processor = BatchProcessor(cache, gateway.client(), work_dir=tmp_path / "work")
        processor.prepare_batch_input(output_file=tmp_path / "input.jsonl")
        batch_id = processor.submit_batch(tmp_path / "input.jsonl")
        with pytest.raises(BatchError, match=f"batch {batch_id} is still .*; its results are not ready"):
            processor.process_results(batch_id)
        with pytest.raises(BatchError, match=f"batch {batch_id} is still .*; process it once it has finished"):
            processor.process_results(batch_id, tmp_path / "output.jsonl")
        states = [point.tagging for point in cache.points()]
    assert {state.status for state in states if state is not None} == {"pending"}
    assert len(states) == 40
