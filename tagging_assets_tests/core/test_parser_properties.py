"""Property tests for the parsers that read files someone else wrote: result lines, index files, the input audit,
and the token counts. Arbitrary bytes never crash them: a line is either read or named as a problem."""

import json
import math
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from tagging_assets.core.audit import audit_input_files
from tagging_assets.core.contracts import IndexEntry
from tagging_assets.core.errors import InputError
from tagging_assets.core.models import ModelTable
from tagging_assets.core.protocol import CHARS_PER_TOKEN
from tagging_assets.core.results import Outcome, ParseProblem, read_outcomes
from tagging_assets.core.shards import read_index
from tagging_assets.core.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REQUEST, TokenCounter
from tagging_assets.wire import BUILDERS, read_request

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
"""Any JSON value, to put where a parser expects a particular shape."""

LINE_BYTES = st.binary(max_size=200).map(lambda raw: raw.replace(b"\n", b" "))
"""One line of any bytes at all (files are split on newlines, so a line holds none)."""


def _maybe(value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return value | JSON


REPLY = st.fixed_dictionaries(
    {
        "choices": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "message": _maybe(
                            st.fixed_dictionaries(
                                {
                                    "content": _maybe(
                                        st.builds(
                                            lambda tags, summary: json.dumps({"tags": tags, "summary": summary}),
                                            _maybe(st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True))),
                                            _maybe(st.text(max_size=40)),
                                        )
                                    ),
                                    "refusal": _maybe(st.none()),
                                }
                            )
                        ),
                        "finish_reason": _maybe(st.sampled_from(["stop", "length", "content_filter"])),
                    }
                ),
                max_size=2,
            )
        ),
        "usage": _maybe(
            st.fixed_dictionaries({"prompt_tokens": _maybe(st.integers(0, 10**6)), "completion_tokens": JSON})
        ),
    }
)
CONTENT = st.builds(
    lambda tags, summary: json.dumps({"tags": tags, "summary": summary}),
    _maybe(st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True))),
    _maybe(st.text(max_size=40)),
)
RESPONSE = st.fixed_dictionaries(
    {
        "object": st.just("response"),
        "status": _maybe(st.sampled_from(["completed", "incomplete", "failed"])),
        "incomplete_details": _maybe(st.fixed_dictionaries({"reason": _maybe(st.just("max_output_tokens"))})),
        "model": _maybe(st.just("gpt-5-mini-2025-08-07")),
        "output": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "type": _maybe(st.sampled_from(["message", "reasoning"])),
                        "content": _maybe(
                            st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "type": _maybe(st.sampled_from(["output_text", "refusal"])),
                                        "text": _maybe(CONTENT),
                                        "refusal": _maybe(st.text(max_size=10)),
                                    }
                                ),
                                max_size=2,
                            )
                        ),
                    }
                ),
                max_size=3,
            )
        ),
        "usage": _maybe(
            st.fixed_dictionaries(
                {
                    "input_tokens": _maybe(st.integers(0, 10**6)),
                    "input_tokens_details": _maybe(st.fixed_dictionaries({"cached_tokens": JSON})),
                    "output_tokens": JSON,
                    "output_tokens_details": _maybe(st.fixed_dictionaries({"reasoning_tokens": JSON})),
                }
            )
        ),
    }
)
"""A Responses API body near the real shape: reasoning and message items, refusals, incomplete replies."""
RESULT_LINE = st.fixed_dictionaries(
    {
        "custom_id": _maybe(st.text(min_size=1, max_size=12)),
        "response": _maybe(
            st.fixed_dictionaries(
                {"status_code": _maybe(st.sampled_from([200, 400, 429, 500])), "body": _maybe(REPLY | RESPONSE)}
            )
        ),
        "error": _maybe(st.fixed_dictionaries({"code": _maybe(st.text(max_size=12)), "message": JSON})),
    }
).map(lambda line: json.dumps(line).encode())
"""A result line near the real shape, with any field's value swapped for any JSON at all."""
MESSAGE_RESULT_LINE = st.fixed_dictionaries(
    {
        "custom_id": _maybe(st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)),
        "result": _maybe(
            st.fixed_dictionaries(
                {
                    "type": _maybe(st.sampled_from(["succeeded", "errored", "canceled", "expired"])),
                    "message": _maybe(
                        st.fixed_dictionaries(
                            {
                                "content": _maybe(
                                    st.lists(
                                        st.fixed_dictionaries(
                                            {
                                                "type": _maybe(st.sampled_from(["text", "tool_use"])),
                                                "text": _maybe(CONTENT),
                                                "input": JSON,
                                            }
                                        ),
                                        max_size=2,
                                    )
                                ),
                                "stop_reason": _maybe(
                                    st.sampled_from(["end_turn", "tool_use", "max_tokens", "refusal"])
                                ),
                                "usage": _maybe(
                                    st.fixed_dictionaries(
                                        {
                                            "input_tokens": JSON,
                                            "cache_read_input_tokens": JSON,
                                            "output_tokens": _maybe(st.integers(0, 10**6)),
                                        }
                                    )
                                ),
                            }
                        )
                    ),
                    "error": _maybe(st.fixed_dictionaries({"error": _maybe(st.fixed_dictionaries({"type": JSON}))})),
                }
            )
        ),
    }
).map(lambda line: json.dumps(line).encode())
"""A Message Batch result line near the real shape, with any field's value swapped for any JSON at all."""


def _file(folder: Path, lines: list[bytes]) -> Path:
    path = folder / "lines.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@settings(max_examples=300)
@given(st.lists(LINE_BYTES | RESULT_LINE | MESSAGE_RESULT_LINE, max_size=12))
def test_every_line_of_a_result_file_is_an_outcome_or_a_named_problem(lines: list[bytes]) -> None:
    with TemporaryDirectory() as folder:
        problems: list[ParseProblem] = []
        outcomes = list(read_outcomes(_file(Path(folder), lines), problems))
    assert len(outcomes) + len(problems) == sum(1 for line in lines if line.strip())
    for outcome in outcomes:
        assert isinstance(outcome, Outcome)
        assert outcome.ok != (outcome.error is not None)
        usage = outcome.usage
        assert min(usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.reasoning_tokens) >= 0
    assert all(problem.problem for problem in problems)


@given(
    st.lists(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), min_size=3, max_size=5, unique=True),
    st.text(min_size=1, max_size=40).filter(str.strip),
)
def test_a_well_formed_reply_is_a_success_with_exactly_its_tags(tags: list[str], summary: str) -> None:
    body = {
        "choices": [{"message": {"content": json.dumps({"tags": tags, "summary": summary})}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3},
    }
    line = json.dumps({"custom_id": "x", "response": {"status_code": 200, "body": body}})
    with TemporaryDirectory() as folder:
        problems: list[ParseProblem] = []
        (outcome,) = read_outcomes(_file(Path(folder), [line.encode()]), problems)
    if outcome.output is None:
        assert outcome.error is not None and outcome.error.startswith("schema_violation"), outcome.error
        return
    assert outcome.output.tags == tags and (outcome.usage.input_tokens, outcome.usage.output_tokens) == (7, 3)


INDEX_LINE = st.fixed_dictionaries(
    {
        "custom_id": _maybe(st.text(min_size=1, max_size=12)),
        "point_id": _maybe(st.integers(0, 2**63) | st.uuids().map(str)),
        "content_hash": _maybe(st.text(max_size=16)),
        "attempts": _maybe(st.integers(0, 5)),
        "truncated": _maybe(st.booleans()),
        "input_tokens": _maybe(st.integers(0, 10**6)),
    }
).map(lambda entry: json.dumps(entry).encode())


@settings(max_examples=300)
@given(st.lists(LINE_BYTES | INDEX_LINE, max_size=8))
def test_an_index_file_reads_whole_or_fails_naming_its_line(lines: list[bytes]) -> None:
    with TemporaryDirectory() as folder:
        path = _file(Path(folder), lines)
        try:
            entries = read_index(path)
        except InputError as error:
            assert str(error).startswith(f"{path}:") and "write the input again with `prepare`" in str(error)
            return
    assert all(isinstance(entry, IndexEntry) for entry in entries.values())
    assert len(entries) <= sum(1 for line in lines if line.strip())


@given(
    st.lists(
        st.builds(
            IndexEntry,
            custom_id=st.text(min_size=1, max_size=12),
            point_id=st.integers(0, 2**63) | st.uuids().map(str),
            content_hash=st.text(max_size=16),
            attempts=st.integers(0, 5),
            truncated=st.booleans(),
            input_tokens=st.integers(0, 10**6),
        ),
        max_size=8,
        unique_by=lambda entry: entry.custom_id,
    )
)
def test_an_index_reads_back_what_was_written(entries: list[IndexEntry]) -> None:
    lines = [
        json.dumps({name: getattr(entry, name) for name in IndexEntry.__dataclass_fields__}).encode()
        for entry in entries
    ]
    with TemporaryDirectory() as folder:
        assert read_index(_file(Path(folder), lines)) == {entry.custom_id: entry for entry in entries}


REQUEST_LINE = st.builds(
    lambda custom_id, model, endpoint, text: (
        BUILDERS[endpoint]
        .request(custom_id, ModelTable().profile(model).request_options(), "Tag this.", text)
        .model_dump_json(exclude_none=True)
        .encode()
    ),
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from(["gpt-4o-mini", "gpt-4o-mini", "gpt-5-mini"]),
    st.sampled_from(["/v1/chat/completions", "/v1/chat/completions", "/v1/responses"]),
    st.text(max_size=30),
)
"""A valid request line, drawn so that custom_ids sometimes repeat and models and endpoints sometimes differ."""


@settings(max_examples=200)
@given(st.lists(LINE_BYTES | REQUEST_LINE, max_size=10))
def test_the_input_audit_counts_every_line_and_passes_only_a_clean_file(lines: list[bytes]) -> None:
    with TemporaryDirectory() as folder:
        audit = audit_input_files([_file(Path(folder), lines)])
    counted = [line for line in lines if line.strip()]
    assert (audit.files, audit.requests) == (1, len(counted))
    valid = []
    for line in counted:
        try:
            valid.append(read_request(line))
        except ValueError:
            continue
    clean = (
        counted
        and len(valid) == len(counted)
        and len({request.custom_id for request in valid}) == len(valid)
        and len({request.model for request in valid}) == 1
        and len({request.endpoint for request in valid}) == 1
    )
    assert (not audit.problems) == bool(clean), audit.problems


@given(st.lists(st.text(max_size=300), max_size=4))
def test_the_estimate_is_four_characters_a_token_plus_the_framing(texts: list[str]) -> None:
    counter = TokenCounter()
    assert counter.count_many(texts) == [math.ceil(len(text) / CHARS_PER_TOKEN) for text in texts]
    assert counter.request_tokens(texts) == TOKENS_PER_REQUEST + sum(
        TOKENS_PER_MESSAGE + math.ceil(len(text) / CHARS_PER_TOKEN) for text in texts
    )


@given(st.lists(st.text(max_size=300), max_size=4))
def test_exact_counts_agree_one_by_one_and_in_a_batch(exact_counter: TokenCounter, texts: list[str]) -> None:
    counts = exact_counter.count_many(texts)
    assert counts == [exact_counter.count(text) for text in texts]
    assert all(0 <= count <= len(text.encode()) for count, text in zip(counts, texts, strict=True))


MARKER_TOKENS = 20
"""What the ``[... N words omitted ...]`` marker between head and tail may cost."""


@settings(max_examples=200)
@given(text=st.text(max_size=2000), max_tokens=st.integers(30, 400), exact=st.booleans())
def test_trimming_keeps_a_text_within_its_budget_and_says_whether_it_cut(
    exact_counter: TokenCounter, text: str, max_tokens: int, exact: bool
) -> None:
    counter = exact_counter if exact else TokenCounter()
    trimmed, cut = counter.trim(text, max_tokens)
    if counter.count(text) <= max_tokens:
        assert (trimmed, cut) == (text, False)
        return
    assert cut and "words omitted" in trimmed
    assert counter.count(trimmed) <= max_tokens + MARKER_TOKENS
