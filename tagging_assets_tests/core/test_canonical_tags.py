"""A reply's tags made canonical where their meaning is clear: the rules one by one, their properties over any
tags at all, and a reply whose tags are messy being a success, not a failure paid for again."""

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from tagging_assets.core.contracts import GENERIC_TAGS, MAX_TAGS, MIN_TAGS, TAG_PATTERN
from tagging_assets.core.results import outcome_of
from tagging_assets.core.tags import canonicalize, stem_key
from tagging_assets.wire import read_result

SPELLINGS = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(["GPU", "gpus", "Vector Databases", "vector_database", "AI", "Video", " #Rust! ", "a/b"]),
    ),
    max_size=12,
)
ALIASES = st.dictionaries(
    st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=6
)


def test_case_separators_and_edge_punctuation_are_folded():
    result = canonicalize(["Vector Databases", "kernel_dev", "ci/cd", " #Rust! ", "--edge--"])
    assert result.tags == ("vector-databases", "kernel-dev", "ci-cd", "rust", "edge")
    assert result.dropped == () and not result.few_tags


def test_one_tag_a_stem_keeps_the_first_spelling_seen():
    assert canonicalize(["gpus", "GPU", "kernels", "kernel", "apis", "api"]).tags == ("gpus", "kernels", "apis")
    assert canonicalize(["GPU", "gpus", "rust", "Rust"]).tags == ("gpu", "rust")


def test_generic_and_empty_tags_are_dropped_and_named():
    result = canonicalize(["Video", "podcast", "!!!", "", "rust", "wasm", "llvm"])
    assert result.tags == ("rust", "wasm", "llvm")
    assert result.dropped == ("Video", "podcast", "!!!", "")


def test_the_first_five_are_kept():
    assert canonicalize(["one", "two", "three", "four", "five", "six", "seven"]).tags == (
        "one",
        "two",
        "three",
        "four",
        "five",
    )


def test_fewer_than_three_usable_tags_are_kept_and_flagged():
    result = canonicalize(["GPU", "gpus", "Video", "cuda"])
    assert result.tags == ("gpu", "cuda") and result.few_tags
    assert canonicalize([]).few_tags and canonicalize([]).tags == ()


def test_aliases_name_the_canonical_tag_through_chains_and_loops():
    aliases = {"llms": "large-language-models", "llm": "llms", "k8s": "kubernetes", "ping": "pong", "pong": "ping"}
    result = canonicalize(["LLM", "LLMs", "K8s", "pong", "ping"], aliases=aliases)
    assert result.tags == ("large-language-models", "kubernetes", "ping")
    assert canonicalize(["AI Stuff"], aliases={"ai-stuff": "ai"}).dropped == ("AI Stuff",), "an alias to a generic"


def test_a_closed_vocabulary_takes_its_own_spelling_of_a_stem_and_drops_the_rest():
    allowed = frozenset({"rust", "gpu", "kubernetes"})
    result = canonicalize(["Rust", "GPUs", "go", "k8s", "Video"], aliases={"k8s": "kubernetes"}, allowed=allowed)
    assert result.tags == ("rust", "gpu", "kubernetes")
    assert result.dropped == ("go", "Video")


@given(SPELLINGS, ALIASES, st.frozensets(st.sampled_from(["gpu", "rust", "vector-databases", "a-b", "cuda"])))
def test_with_a_vocabulary_only_its_tags_are_kept_and_twice_changes_nothing(
    raw: list[str], aliases: dict[str, str], allowed: frozenset[str]
) -> None:
    once = canonicalize(raw, aliases=aliases, allowed=allowed)
    assert set(once.tags) <= allowed
    assert canonicalize(once.tags, aliases=aliases, allowed=allowed).tags == once.tags


@given(SPELLINGS, ALIASES)
def test_canonicalizing_twice_changes_nothing(raw: list[str], aliases: dict[str, str]) -> None:
    once = canonicalize(raw, aliases=aliases)
    twice = canonicalize(once.tags, aliases=aliases)
    assert twice.tags == once.tags and twice.dropped == ()


@given(SPELLINGS, ALIASES)
def test_canonical_tags_follow_the_format_one_a_stem(raw: list[str], aliases: dict[str, str]) -> None:
    result = canonicalize(raw, aliases=aliases)
    assert len(result.tags) <= MAX_TAGS
    assert len({stem_key(tag) for tag in result.tags}) == len(result.tags)
    assert not GENERIC_TAGS & set(result.tags)
    assert all(re.fullmatch(TAG_PATTERN, tag) for tag in result.tags)
    assert result.few_tags == (len(result.tags) < MIN_TAGS)
    assert set(result.dropped) <= set(raw)


def _line(content: str) -> bytes:
    body = {"choices": [{"message": {"content": content}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1}}
    return json.dumps({"custom_id": "c", "response": {"status_code": 200, "body": body}}).encode()


def test_a_reply_with_messy_tags_is_a_success_that_keeps_them_as_written():
    raw = ["GPU", "gpus", "Vector Databases", "video", "CUDA", "kernels", "rust"]
    outcome = outcome_of(read_result(_line(json.dumps({"tags": raw, "summary": "About GPUs."}))))
    assert outcome.ok and outcome.output is not None and outcome.output.tags == raw
    assert outcome_of(read_result(_line(json.dumps({"tags": ["A", "b"], "summary": "s"})))).ok, "two tags: kept"
