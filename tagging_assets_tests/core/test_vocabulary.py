"""A closed vocabulary: read from its file in canonical form, held as an ``enum`` in every endpoint's schema, and
refused in one line at prepare where the provider's structured outputs cannot hold it, with nothing written."""

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagging_assets.batches.plan import TaggingPlan
from tagging_assets.cli.commands import main
from tagging_assets.core.cache import QdrantCache
from tagging_assets.core.cost import expected_cost
from tagging_assets.core.errors import ConfigError
from tagging_assets.core.models import RequestOptions
from tagging_assets.core.protocol import CHAT_COMPLETIONS, MESSAGES, RESPONSES
from tagging_assets.core.settings import TaggingSettings
from tagging_assets.core.tags import CanonicalTags, LibrarySpellings, stem_key
from tagging_assets.core.vocabulary import check_enum_fits, load_vocabulary
from tagging_assets.wire import builder_for
from tagging_assets_tests.reading import statuses, stored_payloads
from tagging_assets_tests.support import user_env

ALLOWED = ("vector-databases", "kafka", "gpu")


def _tag_schema(endpoint: str, allowed: tuple[str, ...]) -> dict:
    options = RequestOptions(model="gpt-4o-mini", max_output_tokens=300, allowed_tags=allowed)
    line = json.loads(builder_for(endpoint).request("youtube-a", options, "tag it", "text").model_dump_json())
    if endpoint == CHAT_COMPLETIONS:
        return line["body"]["response_format"]["json_schema"]["schema"]["properties"]["tags"]["items"]
    if endpoint == RESPONSES:
        return line["body"]["text"]["format"]["schema"]["properties"]["tags"]["items"]
    return line["params"]["output_config"]["format"]["schema"]["properties"]["tags"]["items"]


@pytest.mark.parametrize("endpoint", [CHAT_COMPLETIONS, RESPONSES, MESSAGES])
def test_a_closed_vocabulary_is_the_enum_of_every_endpoints_schema(endpoint):
    assert _tag_schema(endpoint, ALLOWED)["enum"] == list(ALLOWED)
    assert "enum" not in _tag_schema(endpoint, ()), "any tag without one"


def test_the_file_is_read_in_canonical_form_each_tag_once(tmp_path: Path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("# the library's tags\nVector Databases\nvector_databases\n\nKafka  # streams\ngpu\n")
    assert load_vocabulary(path) == ALLOWED
    path.write_text("# nothing yet\n\n")
    with pytest.raises(ConfigError, match="holds no tags"):
        load_vocabulary(path)


def test_openais_enum_limits_are_checked_and_anthropic_has_none(tmp_path: Path):
    path = tmp_path / "vocabulary.txt"
    with pytest.raises(ConfigError, match=r"1,001 tags, over the 1,000 enum values"):
        check_enum_fits(tuple(f"tag-{n}" for n in range(1_001)), provider="openai", path=path)
    long_tags = tuple(f"{'x' * 60}-{n}" for n in range(300))
    with pytest.raises(ConfigError, match=r"more than 250 values only up to 15,000 characters"):
        check_enum_fits(long_tags, provider="azure", path=path)
    check_enum_fits(long_tags, provider="anthropic", path=path)
    check_enum_fits(tuple(f"tag-{n}" for n in range(1_000)), provider="openai", path=path)


def test_prepare_refuses_a_vocabulary_too_large_in_one_line_and_writes_nothing(tmp_path, shared_gateway):
    vocabulary = tmp_path / "vocabulary.txt"
    vocabulary.write_text("\n".join(f"tag-{n}" for n in range(1_200)))
    env = user_env(tmp_path, shared_gateway, TAGGING_VOCABULARY="closed", TAGGING_VOCABULARY_FILE=str(vocabulary))
    runner = CliRunner()
    assert runner.invoke(main, ["seed-cache"], env=env).exit_code == 0
    output = tmp_path / "requests.jsonl"
    refused = runner.invoke(main, ["prepare", "--output", str(output)], env=env)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"error: TAGGING_VOCABULARY_FILE={vocabulary}: 1,200 tags, over the 1,000 enum values OpenAI's structured "
        "outputs take in a schema; keep the most used, or use TAGGING_VOCABULARY=prefer"
    )
    assert not output.exists()
    vocabulary.write_text("\n".join(ALLOWED))
    prepared = runner.invoke(main, ["prepare", "--output", str(output)], env=env)
    assert prepared.exit_code == 0, prepared.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert lines and all(
        line["body"]["response_format"]["json_schema"]["schema"]["properties"]["tags"]["items"]["enum"] == list(ALLOWED)
        for line in lines
    )


def _system_prompts(path: Path) -> set[str]:
    return {json.loads(line)["body"]["messages"][0]["content"] for line in path.read_text().splitlines()}


def test_prefer_puts_one_block_of_the_librarys_tags_in_every_request_and_it_changes_with_them(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway, TAGGING_MODE="realtime", TAGGING_VOCABULARY_SIZE="8")
    runner = CliRunner()
    assert runner.invoke(main, ["seed-cache"], env=env).exit_code == 0
    assert runner.invoke(main, ["tag", "--limit", "6"], env=env).exit_code == 0
    prefer = {**env, "TAGGING_VOCABULARY": "prefer"}
    first, again = tmp_path / "first.jsonl", tmp_path / "again.jsonl"
    assert runner.invoke(main, ["prepare", "--output", str(first)], env=prefer).exit_code == 0
    assert runner.invoke(main, ["prepare", "--output", str(again)], env=prefer).exit_code == 0
    [prompt] = _system_prompts(first)
    assert _system_prompts(again) == {prompt}, "the same block while the library's tags stay the same"
    listed = prompt.rsplit("\n", 1)[1].split(", ")
    assert len(listed) == 8 and listed == sorted(listed)
    assert len(first.read_text().splitlines()) == 36, "the preferred tags select nothing again"
    assert runner.invoke(main, ["tag", "--limit", "6"], env=env).exit_code == 0
    later = tmp_path / "later.jsonl"
    assert runner.invoke(main, ["prepare", "--output", str(later)], env=prefer).exit_code == 0
    assert _system_prompts(later) != {prompt}, "the block follows the library's tags"
    free = tmp_path / "free.jsonl"
    assert runner.invoke(main, ["prepare", "--output", str(free)], env=env).exit_code == 0
    assert all("\n" not in system for system in _system_prompts(free)), "no block without prefer"


def test_the_demo_with_the_shipped_vocabulary_tags_every_video_from_it_each_sharing_a_tag(tmp_path, shared_gateway):
    vocabulary = Path(__file__).parents[2] / "tagging_assets" / "seed" / "vocabulary.txt"
    env = user_env(tmp_path, shared_gateway, TAGGING_VOCABULARY="closed", TAGGING_VOCABULARY_FILE=str(vocabulary))
    demo = CliRunner().invoke(main, ["demo"], env=env)
    assert demo.exit_code == 0, demo.stderr
    assert "42 of 43 videos tagged" in demo.stdout
    allowed = set(load_vocabulary(vocabulary))
    tagged = [state for state in statuses(tmp_path / "qdrant").values() if state.get("status") == "tagged"]
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        tags = [payload["tags"] for _, payload in stored_payloads(cache, ["tags"]) if payload.get("tags")]
    assert len(tags) == len(tagged) == 42
    assert set().union(*map(set, tags)) <= allowed, "the offline tagger, held to the enum, answers from it"
    videos_by_tag = Counter(tag for video in tags for tag in set(video))
    assert all(any(videos_by_tag[tag] > 1 for tag in video) for video in tags), "every video shares a tag"


def test_the_demo_with_a_free_vocabulary_leaves_no_two_tags_of_one_stem_in_the_cache(tmp_path, shared_gateway):
    env = user_env(tmp_path, shared_gateway)
    demo = CliRunner().invoke(main, ["demo"], env=env)
    assert demo.exit_code == 0, demo.stderr
    with QdrantCache.connect("nate_content", path=tmp_path / "qdrant") as cache:
        tags = {tag for _, payload in stored_payloads(cache, ["tags"]) for tag in payload.get("tags") or []}
    spellings_by_stem = Counter(stem_key(tag) for tag in tags)
    assert tags and max(spellings_by_stem.values()) == 1, "one spelling a stem, across the whole library"


def test_the_librarys_spelling_of_a_stem_wins_then_the_first_written():
    spellings = LibrarySpellings(["gpu", "vector-databases"])
    first = spellings.spelled(CanonicalTags(("gpus", "kafka-streams", "vector-database"), ()))
    assert first.tags == ("gpu", "kafka-streams", "vector-databases")
    assert spellings.spelled(CanonicalTags(("kafka-stream",), ())).tags == ("kafka-streams",)


def test_a_long_prefer_block_is_priced_as_the_prompt_prefix_openai_caches_and_anthropic_does_not():
    tags = tuple(f"topic-{n}-of-the-library" for n in range(400))
    openai_plan = TaggingPlan.from_settings(TaggingSettings(provider="openai"), backend="api")
    assert openai_plan.cached_prefix_tokens == 0, "the bundled prompt alone is under 1,024 tokens"
    preferring = openai_plan.with_preferred_tags(tags)
    assert preferring.cached_prefix_tokens >= 1_024 and preferring.cached_prefix_tokens % 128 == 0
    priced = preferring.expected_cost(100_000, 50, mode="realtime")
    uncached = expected_cost(preferring.profile, 100_000, 50, mode="realtime")
    assert priced is not None and uncached is not None and priced.realtime_usd < uncached.realtime_usd
    anthropic = TaggingPlan.from_settings(TaggingSettings(provider="anthropic"), backend="api")
    assert anthropic.with_preferred_tags(tags).cached_prefix_tokens == 0
