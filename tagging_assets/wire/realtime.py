"""A request line sent as a realtime call, and the call's answer written back as the Batch API's result line.

Realtime and flex jobs send the very lines a batch would hold, one call each, and write each answer where the
provider's Batch API would have put it: OpenAI's output or error file (``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``) or a Message Batch result (``{"custom_id", "result"}``). So
write-back, the checks and the cost read one format whichever way the requests ran.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from tagging_assets.core.protocol import CHARS_PER_TOKEN, MESSAGES, Endpoint

_OUTPUT_BUDGETS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


@dataclass(frozen=True, slots=True)
class RealtimeCall:
    """One request line as the realtime endpoint takes it: the body is the SDK call's keyword arguments."""

    custom_id: str
    endpoint: Endpoint
    body: dict[str, Any]

    def rate_tokens(self, line: bytes) -> int:
        """What the call counts against a tokens-per-minute limit, as OpenAI counts it: the larger of its output
        budget and an estimate of its input from its characters (REFERENCE-runmodes §1)."""
        budget = next((self.body[name] for name in _OUTPUT_BUDGETS if isinstance(self.body.get(name), int)), 0)
        return max(int(budget), len(line) // CHARS_PER_TOKEN)


def realtime_call(line: bytes) -> RealtimeCall:
    """The call a request line makes: an OpenAI batch line's ``url`` and ``body``, or a Message Batch line's
    ``params`` for ``/v1/messages``. The line was audited before it was written, so its shape holds."""
    request = json.loads(line)
    if "params" in request and "url" not in request:
        return RealtimeCall(str(request["custom_id"]), MESSAGES, dict(request["params"]))
    return RealtimeCall(str(request["custom_id"]), request["url"], dict(request["body"]))


class AnsweredCall(Protocol):
    """An HTTP answer, as the executor hands it over."""

    @property
    def status_code(self) -> int: ...

    @property
    def body(self) -> bytes: ...

    @property
    def request_id(self) -> str | None: ...


class CalledRequest(Protocol):
    @property
    def custom_id(self) -> str: ...


def _body_of(answer: AnsweredCall) -> dict[str, Any]:
    """The answer's JSON object; a body that is not one (a proxy's HTML page) is kept as its text."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"error": {"message": answer.body.decode(errors="replace")[:500], "type": "invalid_response_body"}}


class BatchFileLines:
    """Answers as lines of OpenAI's (and Azure's) Batch API output and error files."""

    def answered(self, request: CalledRequest, answer: AnsweredCall) -> tuple[bytes, bool]:
        line = {
            "id": f"batch_req_{uuid.uuid4().hex}",
            "custom_id": request.custom_id,
            "response": {"status_code": answer.status_code, "request_id": answer.request_id, "body": _body_of(answer)},
            "error": None,
        }
        return json.dumps(line, separators=(",", ":")).encode(), answer.status_code != 200

    def unanswered(self, request: CalledRequest, *, code: str, message: str) -> bytes:
        line = {
            "id": f"batch_req_{uuid.uuid4().hex}",
            "custom_id": request.custom_id,
            "response": None,
            "error": {"code": code, "message": message},
        }
        return json.dumps(line, separators=(",", ":")).encode()

    def custom_id_of(self, line: bytes) -> str:
        return str(json.loads(line)["custom_id"])


class MessageBatchLines:
    """Answers as Message Batch results: ``succeeded`` with the Message, ``errored`` with Anthropic's error."""

    def answered(self, request: CalledRequest, answer: AnsweredCall) -> tuple[bytes, bool]:
        body = _body_of(answer)
        if answer.status_code == 200:
            result: dict[str, Any] = {"type": "succeeded", "message": body}
        else:
            if "type" not in body:
                body = {"type": "error", "error": {"type": "api_error", "message": json.dumps(body)}}
            result = {"type": "errored", "error": body}
        line = {"custom_id": request.custom_id, "result": result}
        return json.dumps(line, separators=(",", ":")).encode(), answer.status_code != 200

    def unanswered(self, request: CalledRequest, *, code: str, message: str) -> bytes:
        error = {"type": "error", "error": {"type": code, "message": message}}
        line = {"custom_id": request.custom_id, "result": {"type": "errored", "error": error}}
        return json.dumps(line, separators=(",", ":")).encode()

    def custom_id_of(self, line: bytes) -> str:
        return str(json.loads(line)["custom_id"])


def result_lines_for(endpoint: str) -> BatchFileLines | MessageBatchLines:
    """How the endpoint's Batch API writes its results."""
    return MessageBatchLines() if endpoint == MESSAGES else BatchFileLines()
