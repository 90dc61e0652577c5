"""An OpenAI-compatible model server behind the gateway (``--upstream``): each batch line is sent to its realtime
endpoint through the project's executor, so a local model (vLLM, Ollama, llama.cpp, LM Studio) or a provider's own
API serves the Files + Batch API with the same pacing, retries and crash safety as the pipeline's realtime jobs.

The executor's answers are written as the Batch API's result lines (``BatchResultLines``) into files of the batch's
own folder, one set per chunk of lines the worker runs; a chunk is recorded in the store once every line of it has
a line there, so a gateway killed mid-chunk sends again only the requests that were in flight.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tagging_assets.core.executor import (
    ConnectionLost,
    ExecutorReport,
    HttpAnswer,
    JobFiles,
    Limits,
    RealtimeRequest,
    run_requests,
)
from tagging_assets.gateway.completions import request_id
from tagging_assets.gateway.limits import request_cost
from tagging_assets.gateway.paths import CLIENT_REQUEST_ID
from tagging_assets.gateway.settings import GatewaySettings

FORWARDED_HEADERS = ("content-type", "x-request-id", "retry-after", "retry-after-ms", "x-should-retry")
"""What a realtime answer of the upstream keeps on its way back (with every ``x-ratelimit-*``): what a client needs
to read the answer and to pace itself; hop-by-hop and length headers are the gateway's own."""


def batch_request_id(batch_id: str, custom_id: str) -> str:
    """The ``id`` of a batch's result line, the same on every run of the line."""
    return "batch_req_" + hashlib.sha256(f"{batch_id}:{custom_id}".encode()).hexdigest()[:32]


ANTHROPIC_MESSAGES = "Anthropic's Messages"
GEMINI_GENERATE_CONTENT = "Gemini's generateContent"


def upstream_speaks_openai(upstream: str, *, api: str) -> str:
    """Why Anthropic's or Gemini's requests are refused with an upstream: an OpenAI-compatible server speaks chat
    completions, not ``api``, which the refusal names so the user reads the API they called."""
    return (
        f"This gateway answers through the OpenAI-compatible server at {upstream}, which does not speak {api}: "
        "send OpenAI or Azure batches (TAGGING_PROVIDER=openai), or run the gateway without --upstream."
    )


def upstream_path(endpoint: str) -> str:
    """The path of an endpoint below the upstream's base URL, which ends in ``/v1`` as the SDKs' base URLs do."""
    return endpoint.removeprefix("/v1")


@dataclass(frozen=True)
class BatchResultLines:
    """OpenAI's batch result envelope (Azure's is the same), written by the executor: the upstream's answer body
    passes through as ``response.body``, so its model name, usage and errors reach the pipeline as it sent them;
    a non-2xx answer belongs in the error file, a request never answered gets an ``error`` and no response."""

    batch_id: str

    def answered(self, request: RealtimeRequest, answer: HttpAnswer) -> tuple[bytes, bool]:
        try:
            body: Any = json.loads(answer.body)
        except ValueError:
            body = answer.body.decode("utf-8", errors="replace")
        record = {
            "id": batch_request_id(self.batch_id, request.custom_id),
            "custom_id": request.custom_id,
            "response": {
                "status_code": answer.status_code,
                "request_id": answer.request_id or request_id(f"{self.batch_id}:{request.custom_id}"),
                "body": body,
            },
            "error": None,
        }
        return json.dumps(record).encode(), not 200 <= answer.status_code < 300

    def unanswered(self, request: RealtimeRequest, *, code: str, message: str) -> bytes:
        record = {
            "id": batch_request_id(self.batch_id, request.custom_id),
            "custom_id": request.custom_id,
            "response": None,
            "error": {"code": code, "message": message},
        }
        return json.dumps(record).encode()

    def custom_id_of(self, line: bytes) -> str:
        return str(json.loads(line)["custom_id"])


@dataclass(frozen=True)
class UpstreamLine:
    """One batch line to send: its custom_id and request body."""

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ChunkOutcome:
    """What running a chunk of a batch's lines upstream gave: the result line of each custom_id answered (and
    whether it is an error line), and why the run stopped early, if it did."""

    records: dict[str, tuple[bool, dict[str, Any]]]
    report: ExecutorReport


class Upstream:
    """The model server the gateway answers through, with one HTTP client shared by every batch and realtime
    request. The executor's limits hold across chunks and batches: chunks run one at a time on the batch worker,
    and a new chunk waits out the pace the last send of the previous one set (the executor paces within a run)."""

    def __init__(self, settings: GatewaySettings) -> None:
        if settings.upstream is None:
            raise ValueError("an Upstream needs settings.upstream")
        self.url = settings.upstream.rstrip("/")
        key = settings.upstream_key()
        self._client = httpx.Client(
            timeout=settings.upstream_timeout_seconds,
            headers={"authorization": f"Bearer {key}"} if key else {},
            limits=httpx.Limits(max_connections=settings.upstream_concurrency + 8),
        )
        self.limits = Limits(
            requests_per_minute=settings.upstream_requests_per_minute,
            tokens_per_minute=settings.upstream_tokens_per_minute,
            max_concurrency=settings.upstream_concurrency,
            max_retries=settings.upstream_max_retries,
        )
        self._pace_lock = threading.Lock()
        self._next_send_at = float("-inf")

    def close(self) -> None:
        self._client.close()

    def sender(self, endpoint: str) -> Callable[[RealtimeRequest], HttpAnswer]:
        """The executor's ``send`` for a batch of ``endpoint`` lines: one POST, no retries of its own, named by
        its custom_id in ``X-Client-Request-Id`` as OpenAI lets a client name a request."""
        url = self.url + upstream_path(endpoint)

        def send(request: RealtimeRequest) -> HttpAnswer:
            self._note_send(request.rate_tokens)
            try:
                response = self._client.post(
                    url,
                    content=request.line,
                    headers={"content-type": "application/json", CLIENT_REQUEST_ID: request.custom_id},
                )
            except httpx.TransportError as error:
                lost = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                raise ConnectionLost(lost) from error
            return HttpAnswer(
                response.status_code,
                response.content,
                {name.lower(): value for name, value in response.headers.items()},
                response.headers.get("x-request-id"),
            )

        return send

    def run_chunk(
        self,
        batch_id: str,
        endpoint: str,
        lines: Iterable[UpstreamLine],
        *,
        files: JobFiles,
        keep_going: Callable[[], bool],
    ) -> ChunkOutcome:
        """Send the lines not yet answered in ``files`` and return every answered line's record. ``keep_going``
        is asked before each new send, so a cancel or a shutdown stops the chunk after its requests in flight."""
        self._wait_for_pace()
        result_lines = BatchResultLines(batch_id)
        report = run_requests(
            _requests(lines, keep_going), self.sender(endpoint), files=files, lines=result_lines, limits=self.limits
        )
        records: dict[str, tuple[bool, dict[str, Any]]] = {}
        for path, is_error in ((files.output, False), (files.errors, True)):
            for record in _records(path):
                records[record["custom_id"]] = (not is_error, record)
        return ChunkOutcome(records, report)

    def forward(self, path: str, body: bytes, client_request_id: str | None) -> httpx.Response:
        """A realtime request passed through to the upstream as it came (with the name its client gave it), for
        the gateway's own realtime endpoints; the upstream's status, body and pacing headers go back."""
        named = {CLIENT_REQUEST_ID: client_request_id} if client_request_id else {}
        return self._client.post(self.url + path, content=body, headers={"content-type": "application/json"} | named)

    def _note_send(self, rate_tokens: int) -> None:
        per_request = 60.0 / self.limits.requests_per_minute if self.limits.requests_per_minute else 0.0
        per_token = 60.0 / self.limits.tokens_per_minute if self.limits.tokens_per_minute else 0.0
        with self._pace_lock:
            self._next_send_at = time.monotonic() + max(per_request, rate_tokens * per_token)

    def _wait_for_pace(self) -> None:
        with self._pace_lock:
            wait_seconds = self._next_send_at - time.monotonic()
        if wait_seconds > 0:
            time.sleep(wait_seconds)


def chunk_files(folder: Path, first_line: int) -> JobFiles:
    """The executor's files for the chunk of a batch that starts after input line ``first_line``: the same names
    after a restart, so the rerun of a killed chunk finds what it answered."""
    stem = folder / f"from-line-{first_line}"
    return JobFiles(
        output=stem.with_suffix(".output.jsonl"),
        errors=stem.with_suffix(".errors.jsonl"),
        journal=stem.with_suffix(".journal"),
    )


def remove_chunk_files(files: JobFiles) -> None:
    for path in (files.output, files.errors, files.journal):
        path.unlink(missing_ok=True)


def remove_batch_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _requests(lines: Iterable[UpstreamLine], keep_going: Callable[[], bool]) -> Iterator[RealtimeRequest]:
    for line in lines:
        if not keep_going():
            return
        yield RealtimeRequest(line.custom_id, json.dumps(line.body).encode(), request_cost(line.body))


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open("rb") as lines:
        yield from (json.loads(line) for line in lines if line.strip())
