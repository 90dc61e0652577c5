"""A request line sent as a realtime call, and the call's answer written back as the Batch API's result line.

Realtime and flex jobs send the very lines a batch would hold, one call each, and write each answer where the
provider's Batch API would have put it: OpenAI's output or error file (``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``), a Message Batch result (``{"custom_id", "result"}``) or a
Gemini batch's result (``{"key", "response"}`` or ``{"key", "error"}``). So
write-back, the checks and the cost read one format whichever way the requests ran.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from tagging_assets.core.protocol import CHARS_PER_TOKEN, GENERATE_CONTENT, MESSAGES, Endpoint
from tagging_assets.wire._fields import object_of, text_of

_OUTPUT_BUDGETS = ("max_completion_tokens", "max_tokens", "max_output_tokens")
"""Where each endpoint's body names its output limit; Gemini's is under ``generationConfig``."""


@dataclass(frozen=True, slots=True)
class RealtimeCall:
    """One request line as the realtime endpoint takes it: the body is the SDK call's keyword arguments."""

    custom_id: str
    endpoint: Endpoint
    body: dict[str, Any]

    def rate_tokens(self, line: bytes) -> int:
        """What the call counts against a tokens-per-minute limit, as OpenAI counts it: the larger of its output
        budget and an estimate of its input from its characters (REFERENCE-runmodes §1). Gemini's limit counts
        input tokens only (its rate-limits page: "tokens per minute (input)"), so a large thinking budget does not
        slow a Gemini run."""
        estimate = len(line) // CHARS_PER_TOKEN
        if self.endpoint == GENERATE_CONTENT:
            return estimate
        budget = next((self.body[name] for name in _OUTPUT_BUDGETS if isinstance(self.body.get(name), int)), 0)
        return max(int(budget), estimate)


def realtime_call(line: bytes) -> RealtimeCall:
    """The call a request line makes: an OpenAI batch line's ``url`` and ``body``, a Message Batch line's
    ``params`` for ``/v1/messages``, or a Gemini line's ``request`` for ``generateContent`` (whose model the job
    names). The line was audited before it was written, so its shape holds."""
    request = json.loads(line)
    if "key" in request and "request" in request:
        return RealtimeCall(str(request["key"]), GENERATE_CONTENT, dict(request["request"]))
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


class GeminiResultLines:
    """Answers as a Gemini batch's result lines: ``response`` with the GenerateContentResponse, or ``error`` with
    the ``code``, ``message`` and ``status`` of Google's error body (``{"error": {...}}``)."""

    def answered(self, request: CalledRequest, answer: AnsweredCall) -> tuple[bytes, bool]:
        body = _body_of(answer)
        if answer.status_code == 200:
            return _line({"key": request.custom_id, "response": body}), False
        error = object_of(body.get("error"))
        status, message = text_of(error.get("status")), text_of(error.get("message")) or json.dumps(body)
        line = {"key": request.custom_id, "error": {"code": answer.status_code, "message": message, "status": status}}
        return _line(line), True

    def unanswered(self, request: CalledRequest, *, code: str, message: str) -> bytes:
        """A call that got no HTTP answer: an error without an HTTP ``code``, whose ``status`` says what happened
        (``connection_error``), read back as a failure that never reached HTTP."""
        return _line({"key": request.custom_id, "error": {"message": message, "status": code}})

    def custom_id_of(self, line: bytes) -> str:
        return str(json.loads(line)["key"])


ResultLines = BatchFileLines | MessageBatchLines | GeminiResultLines
"""A writer of answers as one provider's Batch API result lines."""


def result_lines_for(endpoint: str) -> ResultLines:
    """How the endpoint's Batch API writes its results."""
    if endpoint == MESSAGES:
        return MessageBatchLines()
    if endpoint == GENERATE_CONTENT:
        return GeminiResultLines()
    return BatchFileLines()


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
