"""The realtime executor against a plain Python ``send`` playing the server: one line per request in the right
file, the retry policy, 429s waited out however long, and a quota refusal that stops the run. A fake clock records
what the executor waited without waiting. The helpers here are shared by the other ``test_executor_*`` modules."""

from __future__ import annotations

import ast
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from tagging_assets.core import executor
from tagging_assets.core.executor import (
    ConnectionLost,
    HttpAnswer,
    JobFiles,
    Limits,
    RealtimeRequest,
    Timing,
    run_requests,
)

START = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)
LOST = "connection lost"
"""A scripted reply meaning: no HTTP answer arrives."""


class FakeClock:
    """Time that moves only when the executor sleeps; every wait is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.now += seconds

    def monotonic(self) -> float:
        return self.now

    @property
    def timing(self) -> Timing:
        return Timing(sleep=self.sleep, monotonic=self.monotonic, wall_clock=self.wall_clock)

    def wall_clock(self) -> datetime:
        return START + timedelta(seconds=self.now)


class JsonLines:
    """Result lines shaped as OpenAI's Batch API writes them."""

    def answered(self, request: RealtimeRequest, answer: HttpAnswer) -> tuple[bytes, bool]:
        response = {"status_code": answer.status_code, "request_id": answer.request_id, "body": json.loads(answer.body)}
        line = {"id": f"batch_req_{request.custom_id}", "custom_id": request.custom_id, "response": response}
        return json.dumps({**line, "error": None}).encode(), not 200 <= answer.status_code < 300

    def unanswered(self, request: RealtimeRequest, *, code: str, message: str) -> bytes:
        error = {"code": code, "message": message}
        return json.dumps({"custom_id": request.custom_id, "response": None, "error": error}).encode()

    def custom_id_of(self, line: bytes) -> str:
        return str(json.loads(line)["custom_id"])


Reply = HttpAnswer | str


def answer(status: int = 200, error: Mapping[str, object] | None = None, **headers: str) -> HttpAnswer:
    body = {"error": dict(error)} if error is not None else {"choices": [{"message": {"content": "{}"}}]}
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return HttpAnswer(status, json.dumps(body).encode(), named, request_id="req_1")


OK = answer()
QUOTA = answer(429, {"message": "You exceeded your current quota.", "type": "insufficient_quota", "code": None})
SPEND_LIMIT = answer(
    429,
    {
        "type": "rate_limit_error",
        "message": "Spend limit reached.",
        "details": {"error_code": "enforced_spend_limit_reached"},
    },
)
TOO_LARGE = answer(429, {"message": "Request too large for gpt-4o-mini on tokens per min (TPM)", "type": "tokens"})
FLEX_BUSY = answer(429, {"message": "Resource Unavailable", "type": "resource_unavailable"})


class ScriptedServer:
    """A thread-safe ``send``: each custom_id gets its script's replies in turn, the last one repeating
    (``OK`` when it has none). It records every send with the fake clock's time."""

    def __init__(self, clock: FakeClock, scripts: Mapping[str, list[Reply]] | None = None) -> None:
        self.clock = clock
        self.scripts = scripts or {}
        self.received: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def __call__(self, request: RealtimeRequest) -> HttpAnswer:
        with self._lock:
            attempt = sum(1 for custom_id, _ in self.received if custom_id == request.custom_id)
            self.received.append((request.custom_id, self.clock.monotonic()))
        script = self.scripts.get(request.custom_id) or [OK]
        reply = script[min(attempt, len(script) - 1)]
        if isinstance(reply, str):
            raise ConnectionLost(reply)
        return reply

    def sends(self) -> Counter[str]:
        return Counter(custom_id for custom_id, _ in self.received)


def gaps(server: ScriptedServer) -> list[float]:
    """The fake time between consecutive sends."""
    times = [at for _, at in server.received]
    return [later - earlier for earlier, later in pairwise(times)]


def custom_id(index: int) -> str:
    return f"youtube:v{index:03d}"


def make_requests(count: int, *, rate_tokens: int = 100) -> Iterator[RealtimeRequest]:
    for index in range(count):
        line = json.dumps({"custom_id": custom_id(index), "body": {"model": "gpt-4o-mini"}}).encode()
        yield RealtimeRequest(custom_id(index), line, rate_tokens)


def job_files(folder: Path) -> JobFiles:
    job = folder / "job"
    return JobFiles(output=job / "output.jsonl", errors=job / "errors.jsonl", journal=job / "journal.txt")


def written(path: Path) -> Counter[str]:
    """How many lines each custom_id has in a result file."""
    if not path.exists():
        return Counter()
    return Counter(JsonLines().custom_id_of(line) for line in path.read_bytes().splitlines() if line.strip())


def error_line(files: JobFiles, wanted: str) -> dict[str, object]:
    lines = (json.loads(line) for line in files.errors.read_bytes().splitlines())
    return next(line for line in lines if line["custom_id"] == wanted)


def run(tmp_path, server, count=20, **limits):
    limits.setdefault("max_concurrency", 4)
    return run_requests(
        make_requests(count),
        server,
        files=job_files(tmp_path),
        lines=JsonLines(),
        limits=Limits(**limits),
        timing=server.clock.timing,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_every_request_gets_one_line_in_the_output_file_and_progress_counts_each(tmp_path, clock):
    server = ScriptedServer(clock)
    seen: list[int] = []
    files = job_files(tmp_path)
    report = run_requests(
        make_requests(30),
        server,
        files=files,
        lines=JsonLines(),
        limits=Limits(max_concurrency=4),
        timing=clock.timing,
        progress=seen.append,
    )
    assert written(files.output) == {custom_id(index): 1 for index in range(30)}
    assert written(files.errors) == Counter()
    assert sorted(files.journal.read_text().split()) == sorted(custom_id(index) for index in range(30))
    assert (report.requests, report.sent, report.succeeded, report.failed, report.unanswered) == (30, 30, 30, 0, 0)
    assert (report.retries, report.rate_limited, report.stopped, sum(seen)) == (0, 0, None, 30)
    assert server.sends() == {custom_id(index): 1 for index in range(30)}


def test_the_input_is_read_lazily_no_further_than_the_requests_in_flight(tmp_path, clock):
    pulled = answered = most_held = 0
    lock = threading.Lock()

    def counted() -> Iterator[RealtimeRequest]:
        nonlocal pulled
        for request in make_requests(200):
            with lock:
                pulled += 1
            yield request

    def send(request: RealtimeRequest) -> HttpAnswer:
        nonlocal answered, most_held
        with lock:
            most_held = max(most_held, pulled - answered)
            answered += 1
        return OK

    run_requests(counted(), send, files=job_files(tmp_path), lines=JsonLines(), limits=Limits(max_concurrency=4))
    assert pulled == answered == 200
    assert most_held <= 4 + 1, "the requests in flight, and the one the loop holds while it waits for room"


def test_a_400_is_final_at_once_in_the_errors_file(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(3): [answer(400, {"message": "bad schema"})]})
    report = run(tmp_path, server)
    files = job_files(tmp_path)
    assert written(files.errors) == {custom_id(3): 1}
    assert written(files.output) == {custom_id(index): 1 for index in range(20) if index != 3}
    assert error_line(files, custom_id(3))["response"]["status_code"] == 400
    assert (server.sends()[custom_id(3)], report.failed, report.succeeded, report.retries) == (1, 1, 19, 0)


def test_5xx_answers_are_retried_with_doubling_jittered_backoff_then_answered(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(0): [answer(500), answer(502), OK]})
    report = run(tmp_path, server, count=1, first_backoff_seconds=1.0)
    assert written(job_files(tmp_path).output) == {custom_id(0): 1}
    first, second = gaps(server)
    assert 0.75 <= first <= 1.0 and 1.5 <= second <= 2.0
    assert (server.sends()[custom_id(0)], report.retries, report.succeeded, report.rate_limited) == (3, 2, 1, 0)
    assert report.waited_seconds == pytest.approx(first + second)


def test_a_5xx_that_never_ends_is_final_after_max_retries_with_capped_backoff(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(0): [answer(503, {"message": "overloaded"})]})
    report = run(tmp_path, server, count=1, max_retries=4, max_backoff_seconds=1.5)
    files = job_files(tmp_path)
    assert written(files.errors) == {custom_id(0): 1}
    assert error_line(files, custom_id(0))["response"]["status_code"] == 503
    assert server.sends()[custom_id(0)] == 5 and report.retries == 4 and report.failed == 1
    assert max(gaps(server)) <= 1.5


@pytest.mark.parametrize("status", [408, 409, 529])
def test_timeouts_conflicts_and_overloads_are_retried(tmp_path, clock, status):
    server = ScriptedServer(clock, {custom_id(0): [answer(status), OK]})
    report = run(tmp_path, server, count=1)
    assert (report.succeeded, report.retries) == (1, 1)


def test_a_lost_connection_is_retried_then_answered(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(1): [LOST, LOST, OK]})
    report = run(tmp_path, server, count=3)
    assert written(job_files(tmp_path).output) == {custom_id(index): 1 for index in range(3)}
    assert (report.retries, report.succeeded, server.sends()[custom_id(1)]) == (2, 3, 3)


def test_a_connection_lost_for_good_is_an_unanswered_line_with_connection_error(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(0): ["connection refused"]})
    report = run(tmp_path, server, count=2, max_retries=2)
    line = error_line(job_files(tmp_path), custom_id(0))
    assert line["response"] is None
    assert line["error"] == {"code": "connection_error", "message": "connection refused"}
    assert (server.sends()[custom_id(0)], report.failed, report.succeeded, report.unanswered) == (3, 1, 1, 0)


def test_a_429_waits_its_retry_after_ms_however_long_and_no_send_starts_meanwhile(tmp_path, clock):
    refused = custom_id(2)
    rate_limited = answer(429, {"message": "Rate limit reached"}, retry_after_ms="130000")
    server = ScriptedServer(clock, {refused: [rate_limited, OK]})
    report = run(tmp_path, server, count=40, max_concurrency=4)
    assert written(job_files(tmp_path).output) == {custom_id(index): 1 for index in range(40)}
    assert sum(clock.waits) >= 130.0
    assert (report.rate_limited, report.retries, report.waited_seconds) == (1, 1, 130.0)
    refusal_at = server.received.index((refused, 0.0))
    sends_during_the_wait = [at for _, at in server.received[refusal_at + 1 :] if at < 130.0]
    assert len(sends_during_the_wait) <= 4 - 1, "only requests already past the gate may go during a 429's wait"
    retried_at = [at for sent, at in server.received if sent == refused][1]
    assert retried_at >= 130.0


def test_a_flex_resource_unavailable_429_is_retried_with_backoff(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(0): [FLEX_BUSY, FLEX_BUSY, OK]})
    report = run(tmp_path, server, count=1, first_backoff_seconds=2.0)
    assert (report.succeeded, report.rate_limited, report.retries) == (1, 2, 2)
    first, second = gaps(server)
    assert 1.5 <= first <= 2.0 and 3.0 <= second <= 4.0


def test_rate_limit_429s_do_not_use_up_max_retries_unless_they_never_end(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(0): [FLEX_BUSY] * 5 + [OK], custom_id(1): [FLEX_BUSY]})
    report = run(tmp_path, server, count=2, max_retries=2, max_backoff_seconds=1.0)
    files = job_files(tmp_path)
    assert written(files.output) == {custom_id(0): 1}
    assert written(files.errors) == {custom_id(1): 1}
    assert server.sends() == {custom_id(0): 6, custom_id(1): 2 * 4 + 1}
    assert (report.rate_limited, report.retries, report.succeeded, report.failed) == (5 + 8, 5 + 8, 1, 1)


def test_a_request_too_large_429_is_final_for_that_request_only(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(1): [TOO_LARGE]})
    report = run(tmp_path, server, count=3)
    assert written(job_files(tmp_path).errors) == {custom_id(1): 1}
    assert (report.failed, report.succeeded, report.rate_limited, report.stopped) == (1, 2, 0, None)
    assert server.sends()[custom_id(1)] == 1


@pytest.mark.parametrize(
    ("refusal", "message"), [(QUOTA, "You exceeded your current quota."), (SPEND_LIMIT, "Spend limit reached.")]
)
def test_insufficient_quota_stops_the_run_and_a_later_run_sends_the_rest(tmp_path, clock, refusal, message):
    server = ScriptedServer(clock, {custom_id(5): [refusal, OK]})
    report = run(tmp_path, server, count=20, max_concurrency=1)
    files = job_files(tmp_path)
    assert [sent for sent, _ in server.received] == [custom_id(index) for index in range(6)]
    assert written(files.output) == {custom_id(index): 1 for index in range(5)}
    assert written(files.errors) == Counter()
    assert (report.requests, report.succeeded, report.unanswered, report.sent) == (20, 5, 15, 6)
    assert report.stopped is not None and "\n" not in report.stopped
    assert f"insufficient_quota: {message}" in report.stopped
    assert "15 requests wait unanswered: add credit and run again" in report.stopped

    again = run(tmp_path, server, count=20, max_concurrency=4)
    assert written(files.output) == {custom_id(index): 1 for index in range(20)}
    assert (again.answered_before, again.sent, again.resent_after_crash, again.stopped) == (5, 15, 1, None)
    assert server.sends()[custom_id(5)] == 2 and server.sends()[custom_id(6)] == 1


def test_no_request_is_sent_after_insufficient_quota_with_many_in_flight(tmp_path, clock):
    server = ScriptedServer(clock, {custom_id(10): [QUOTA]})
    report = run(tmp_path, server, count=200, max_concurrency=8)
    refusal_at = [sent for sent, _ in server.received].index(custom_id(10))
    assert len(server.received) - 1 - refusal_at <= 8 - 1, "only requests already in flight may follow"
    assert report.unanswered == 200 - report.succeeded - report.failed > 0
    assert custom_id(10) not in written(job_files(tmp_path).output) + written(job_files(tmp_path).errors)


def test_x_should_retry_overrides_the_status(tmp_path, clock):
    final_500 = answer(500, x_should_retry="false")
    retryable_400 = answer(400, x_should_retry="true")
    server = ScriptedServer(clock, {custom_id(0): [final_500, OK], custom_id(1): [retryable_400, OK]})
    report = run(tmp_path, server, count=2)
    files = job_files(tmp_path)
    assert written(files.errors) == {custom_id(0): 1}
    assert written(files.output) == {custom_id(1): 1}
    assert server.sends() == {custom_id(0): 1, custom_id(1): 2}
    assert report.retries == 1


def test_the_executor_imports_only_the_standard_library_so_the_gateway_can_run_it():
    parts = {f"tagging_assets.core.{name}" for name in ("realtime_calls", "throttle", "retry_policy", "job_store")}
    for module in (
        executor.__file__,
        *(Path(executor.__file__).with_name(f"{name.rsplit('.', 1)[1]}.py") for name in parts),
    ):
        imported = set()
        for node in ast.walk(ast.parse(Path(module).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module if node.module in parts else node.module.split(".")[0])
        assert imported - {"__future__"} - parts <= sys.stdlib_module_names, module
