"""A batch's input file checked as the Batch API checks it before any line runs: each line's shape, its
endpoint, a custom_id given once, and the file's limits; a batch that fails it ends ``failed`` with the errors
listed, as the real API lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tagging_assets.core.protocol import MAX_REQUESTS_PER_FILE, MESSAGES
from tagging_assets.gateway.paths import gemini_model
from tagging_assets.gateway.settings import GatewaySettings
from tagging_assets.gateway.tokens import prompt_tokens

MAX_REPORTED_ERRORS = 100
"""Validation stops listing errors after this many, as the real API does not list thousands."""


@dataclass
class InputCheck:
    """What validating a batch's input file found."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    model: str | None = None
    tokens: int = 0

    def fail(self, code: str, message: str, line: int | None = None, param: str | None = None) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"code": code, "message": message, "param": param, "line": line})


def check_input(path: Any, endpoint: str, settings: GatewaySettings) -> InputCheck:
    """Validate an input file line by line, as the Batch API does before it runs anything. A Gemini job is held
    to Gemini's own limits only, checked when it was created and uploaded: ``max_input_bytes`` is OpenAI's, and
    the file measured here is the gateway's converted copy, not what the user sent."""
    check = InputCheck()
    if (model := gemini_model(endpoint)) is not None:
        check.model = model
        check.total, check.tokens = _gemini_requests_in(path)
        return check
    size = path.stat().st_size
    if size > settings.max_input_bytes:
        check.fail(
            "file_too_large",
            f"The input file is {size:,} bytes, over the limit of {settings.max_input_bytes:,} bytes for a batch.",
        )
        return check
    if endpoint == MESSAGES:
        check.total = _requests_in(path)
        return check
    seen: set[str] = set()
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            check.total += 1
            if check.total > (most := settings.max_lines_per_batch or MAX_REQUESTS_PER_FILE):
                check.fail(
                    "too_many_tasks",
                    f"The batch has more than {most:,} requests; split it into several batches.",
                )
                return check
            _check_line(raw, number, endpoint, seen, check)
    if check.total == 0:
        check.fail("empty_file", "The batch input file is empty.")
    return check


def _gemini_requests_in(path: Any) -> tuple[int, int]:
    """A Gemini job's requests and their prompt tokens, which count against the enqueued-token limit of its
    model as any batch's do; each line was stored by the gateway as ``{"custom_id", "body"}``."""
    total = tokens = 0
    with path.open("rb") as lines:
        for raw in lines:
            if raw.strip():
                total += 1
                tokens += prompt_tokens(json.loads(raw)["body"])
    return total, tokens


def _requests_in(path: Any) -> int:
    """A Message Batch's (or a Gemini job's) requests were checked when it was created; Anthropic and Gemini check
    each request's params as they run them, failing that request alone."""
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _check_line(raw: bytes, number: int, endpoint: str, seen: set[str], check: InputCheck) -> None:
    try:
        request = json.loads(raw)
    except ValueError:
        check.fail("invalid_json_line", "This line is not parseable as valid JSON.", number)
        return
    if not isinstance(request, dict):
        check.fail("invalid_json_line", "Each line must be a JSON object.", number)
        return
    custom_id, url, body = request.get("custom_id"), request.get("url"), request.get("body")
    if not isinstance(custom_id, str) or not isinstance(url, str) or not isinstance(body, dict):
        name = "custom_id" if not isinstance(custom_id, str) else "url" if not isinstance(url, str) else "body"
        check.fail("missing_required_parameter", f"Missing required parameter: '{name}'.", number, name)
        return
    if custom_id in seen:
        check.fail(
            "duplicate_custom_id",
            "The custom_id for this request is a duplicate of another request. "
            "The custom_id parameter must be unique for each request in a batch.",
            number,
            "custom_id",
        )
    seen.add(custom_id)
    if request.get("method") != "POST":
        check.fail("invalid_method", "The method of each request must be POST.", number, "method")
    if url not in line_urls(endpoint):
        check.fail(
            "url_mismatch",
            f"The provided URL '{url}' does not match the batch's endpoint '{endpoint}'.",
            number,
            "url",
        )
    model = body.get("model")
    if check.model is None:
        check.model = model
    elif model != check.model:
        check.fail(
            "model_mismatch",
            f"The model '{model}' differs from the model '{check.model}' of the file's first request; "
            "a batch file holds requests for one model.",
            number,
            "body.model",
        )
    check.tokens += prompt_tokens(body)


def line_urls(endpoint: str) -> set[str]:
    """The ``url`` a line of a batch created with ``endpoint`` may carry: Azure's ``/chat/completions`` batches
    take lines in either spelling, OpenAI's only their own."""
    return {endpoint} if endpoint.startswith("/v1/") else {endpoint, f"/v1{endpoint}"}


def canonical(endpoint: str) -> str:
    return endpoint if endpoint.startswith("/v1/") else f"/v1{endpoint}"
