"""Reading Batch API output and error files into one outcome per request.

A line is a success only if it is a 200 whose reply parses into ``TaggingOutput``
and finished normally; everything else is a failure with its reason, so no
request vanishes silently and one bad line costs one item, never the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tagging_assets.core.contracts import BatchResult, TaggingOutput


@dataclass(frozen=True)
class Outcome:
    """What one request came to."""

    custom_id: str
    output: TaggingOutput | None
    error: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.output is not None


def outcome_of(result: BatchResult) -> Outcome:
    """Classify one result line."""
    if result.response is None:
        error = result.error
        code = error.code if error and error.code else "no_response"
        message = f": {error.message}" if error and error.message else ""
        return Outcome(result.custom_id, None, f"{code}{message}")
    response = result.response
    body = response.body
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    tokens = {"input_tokens": usage.get("prompt_tokens", 0), "output_tokens": usage.get("completion_tokens", 0)}
    if response.status_code != 200:
        detail = body.get("error") if isinstance(body.get("error"), dict) else {}
        message = detail.get("message") or "no message"
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 409, 429)
        return Outcome(
            result.custom_id, None, f"http_{response.status_code}: {message}", **tokens, retryable=not permanent
        )
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return Outcome(result.custom_id, None, "no_choices: the reply has no choices", **tokens)
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    if message.get("refusal"):
        return Outcome(result.custom_id, None, f"refusal: {message['refusal']}", **tokens)
    if choice.get("finish_reason") == "length":
        return Outcome(result.custom_id, None, "truncated: the reply hit max_tokens", **tokens)
    content = message.get("content")
    if not isinstance(content, str):
        return Outcome(result.custom_id, None, "empty_reply: the reply has no content", **tokens)
    try:
        return Outcome(result.custom_id, TaggingOutput.model_validate_json(content), None, **tokens)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return Outcome(result.custom_id, None, "invalid_json: the reply is not JSON", **tokens)
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in error.errors())
        return Outcome(result.custom_id, None, f"schema_violation: {problems}", **tokens)


@dataclass
class ParseProblem:
    """A line of a result file that could not be read at all."""

    path: Path
    line: int
    problem: str


def read_outcomes(path: Path, problems: list[ParseProblem]) -> Iterator[Outcome]:
    """Stream the outcomes of one result file; unreadable lines go to ``problems``."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                result = BatchResult.model_validate_json(line)
            except ValidationError as error:
                problems.append(ParseProblem(path, number, str(error.errors()[0]["msg"])))
                continue
            yield outcome_of(result)


def summarise_failures(errors: dict[str, int]) -> list[dict[str, Any]]:
    """Failure counts by their leading code, most common first."""
    return [{"reason": reason, "count": count} for reason, count in sorted(errors.items(), key=lambda kv: -kv[1])]
