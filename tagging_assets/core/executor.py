"""The one executor for realtime and flex work: request lines sent one by one, concurrently, answers written as the
Batch API's output and error files, so that write-back, checks and cost stay one path.

The caller hands over a ``send`` (one SDK call, made with ``max_retries=0``) and the provider's ``ResultLines``; the
executor owns pacing, retries and the files. It imports only the standard library, so that the pipeline and the
gateway (in front of an upstream model server) run the same code. Facts cited as "§1" are from
REFERENCE-runmodes.md §1.

Memory does not grow with the number of requests: the input is consumed lazily, at most ``max_concurrency``
requests are held at once, and the only set kept is the custom_ids already answered on disk when the run starts
(plus those of the journal a killed run left unanswered, at most its concurrency).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class RealtimeRequest:
    custom_id: str
    line: bytes
    """The request line as the file holds it (the caller parses it)."""
    rate_tokens: int
    """What it counts against a tokens-per-minute limit: OpenAI counts max(max_tokens, a character estimate of the
    input) at admission, not the tokens used (§1), so the caller computes it."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status_code: int
    body: bytes
    headers: Mapping[str, str]
    """Header names lower-cased."""
    request_id: str | None = None

    @classmethod
    def of(cls, response: HttpResponse, request_id: str | None) -> HttpAnswer:
        """An HTTP client's response (the SDKs' httpx responses) as the executor reads it."""
        headers = {name.lower(): value for name, value in response.headers.items()}
        return cls(status_code=response.status_code, body=response.content, headers=headers, request_id=request_id)


class _Headers(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


class HttpResponse(Protocol):
    """What ``HttpAnswer.of`` reads of a response."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> _Headers: ...


class ConnectionLost(Exception):
    """Raised by a send when no HTTP answer arrived: connection refused or cut, or timed out."""


Send = Callable[[RealtimeRequest], HttpAnswer]
"""Called from worker threads, so it must be thread-safe (the SDKs' sync clients are)."""


class ResultLines(Protocol):
    """How the provider's Batch API writes a result line; the executor never looks inside bodies except to classify
    errors."""

    def answered(self, request: RealtimeRequest, answer: HttpAnswer) -> tuple[bytes, bool]:
        """The line (without newline) for a final HTTP answer, and whether it belongs in the errors file."""
        ...

    def unanswered(self, request: RealtimeRequest, *, code: str, message: str) -> bytes:
        """The errors-file line for a request that got no final HTTP answer."""
        ...

    def custom_id_of(self, line: bytes) -> str:
        """A written line's custom_id, read back when a run resumes."""
        ...


@dataclass(frozen=True, kw_only=True)
class Limits:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrency: int = 16
    max_retries: int = 8
    """For 5xx, 408/409, connection lost. A 429 that names no wait (flex's "resource unavailable") gets four times as
    many before it counts as endless; one that names its wait is obeyed however often it comes."""
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.max_retries < 0:
            raise ValueError("max_concurrency must be at least 1 and max_retries at least 0")
        if any(limit is not None and limit < 1 for limit in (self.requests_per_minute, self.tokens_per_minute)):
            raise ValueError("a per-minute limit must be at least 1, or None for no limit")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Injectable so that tests see what the executor waited without waiting. ``wall_clock`` turns absolute times
    (Anthropic's RFC 3339 resets, an HTTP-date ``retry-after``) into waits."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = _utc_now


@dataclass(frozen=True, kw_only=True)
class JobFiles:
    output: Path
    errors: Path
    journal: Path
    """custom_ids sent, written before each first send: what a killed run had in flight."""


@dataclass(frozen=True)
class ExecutorReport:
    requests: int
    """Lines in the input."""
    answered_before: int
    """Already answered on disk when the run started (not sent again)."""
    sent: int
    """Requests this run sent (first attempts)."""
    succeeded: int
    """Answered in this run into the output file."""
    failed: int
    """Answered in this run into the errors file."""
    resent_after_crash: int
    """In the journal from an earlier run but unanswered, and sent again: at most that run's requests in flight
    (a request refused for insufficient_quota counts here on the next run too: it was sent and got no line)."""
    retries: int
    """Attempts beyond the first."""
    rate_limited: int
    """429s obeyed (waited out, then retried)."""
    waited_seconds: float
    """The waits that retry-after headers and backoff asked for, summed (concurrent waits overlap)."""
    stopped: str | None
    """One line saying why the run stopped before every line was answered, and what to do; None if it did not."""

    @property
    def unanswered(self) -> int:
        return self.requests - self.answered_before - self.succeeded - self.failed


_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float | None:
    """OpenAI's ``x-ratelimit-reset-*`` are Go durations (``20ms``, ``6m0s``, ``1m30.5s``; §1); None if not one."""
    parts = list(_GO_DURATION_PART.finditer(text.strip()))
    if not parts or "".join(part.group(0) for part in parts) != text.strip():
        return None
    return sum(float(number) * _GO_UNIT_SECONDS[unit] for number, unit in (part.groups() for part in parts))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Bucket:
    """One rate-limit dimension's headers, as OpenAI (Go-duration resets) or Anthropic (RFC 3339 resets) name them."""

    remaining: str
    reset: str
    limit: str
    absolute_reset: bool


_REQUEST_BUCKETS = (
    _Bucket("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "x-ratelimit-limit-requests", False),
    _Bucket("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset",
            "anthropic-ratelimit-requests-limit", True),
)  # fmt: skip
_TOKEN_BUCKETS = (
    _Bucket("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", "x-ratelimit-limit-tokens", False),
    _Bucket("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset",
            "anthropic-ratelimit-tokens-limit", True),
)  # fmt: skip


STOP_CHECK_SECONDS = 1.0
"""Long waits (a 429 may ask for minutes) are slept in slices this long, so that a stopped or interrupted run does
not sit out the rest of a wait before it ends."""


@dataclass(frozen=True)
class _TokensLeft:
    remaining: float
    seen_at: float
    reset_seconds: float | None
    per_minute: float | None


class Throttle:
    """Paces new sends so that the per-minute limits are never exceeded, evenly: providers quantize limits (3,000
    rpm is enforced as 50 per second, §1), so a burst then a stall would be refused where an even pace is not.
    It also slows down when the answers' rate-limit headers say a bucket is empty, and holds every send while a
    429's wait runs. Sends pass one at a time through ``acquire``, which sleeps while holding its gate: only one
    sender waits on the clock, the others queue behind it."""

    def __init__(self, limits: Limits, timing: Timing) -> None:
        self._timing = timing
        self._seconds_per_request = 60.0 / limits.requests_per_minute if limits.requests_per_minute else 0.0
        self._seconds_per_token = 60.0 / limits.tokens_per_minute if limits.tokens_per_minute else 0.0
        self._gate = threading.Lock()
        self._state = threading.Lock()
        self._next_request_at = float("-inf")
        self._next_tokens_at = float("-inf")
        self._held_until = float("-inf")
        self._tokens_left: _TokensLeft | None = None

    def acquire(self, rate_tokens: int, stop: threading.Event) -> bool:
        """Wait until a request of ``rate_tokens`` may go; False if the run stopped meanwhile."""
        with self._gate:
            while True:
                if stop.is_set():
                    return False
                now = self._timing.monotonic()
                ready_at = self._ready_at(rate_tokens)
                if ready_at <= now:
                    break
                self._timing.sleep(min(ready_at - now, STOP_CHECK_SECONDS))
            with self._state:
                self._next_request_at = _next_slot(self._next_request_at, now, self._seconds_per_request)
                self._next_tokens_at = _next_slot(self._next_tokens_at, now, rate_tokens * self._seconds_per_token)
            return True

    def hold_for(self, seconds: float) -> None:
        """A 429's wait pauses every send, not just the refused one: the limit is the key's, not the request's."""
        self._hold_until(self._timing.monotonic() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the rate-limit headers of an answer (§1): an empty request bucket holds new sends until its reset,
        but at most one request's refill time (60 / the limit), since the provider refills continuously and the
        reset names when the bucket is full again, not when it has room for one."""
        now = self._timing.monotonic()
        for bucket in _REQUEST_BUCKETS:
            remaining = _number(headers.get(bucket.remaining))
            if remaining is not None and remaining <= 0:
                limit = _number(headers.get(bucket.limit))
                wait_seconds = _shortest(self._reset_seconds(headers, bucket), 60.0 / limit if limit else None)
                if wait_seconds is not None:
                    self._hold_until(now + wait_seconds)
        for bucket in _TOKEN_BUCKETS:
            remaining = _number(headers.get(bucket.remaining))
            if remaining is not None:
                limit = _number(headers.get(bucket.limit))
                left = _TokensLeft(remaining, now, self._reset_seconds(headers, bucket), limit if limit else None)
                with self._state:
                    self._tokens_left = left

    def _ready_at(self, rate_tokens: int) -> float:
        with self._state:
            ready_at = max(self._next_request_at, self._next_tokens_at, self._held_until)
            left = self._tokens_left
        if left is not None and left.remaining < rate_tokens:
            refill = (rate_tokens - left.remaining) * 60.0 / left.per_minute if left.per_minute else None
            wait_seconds = _shortest(left.reset_seconds, refill)
            if wait_seconds is not None:
                ready_at = max(ready_at, left.seen_at + wait_seconds)
        return ready_at

    def _hold_until(self, moment: float) -> None:
        """Hold every send until ``moment``; the pace starts again from there, so the time held is not made up
        in a burst that the provider would refuse again."""
        with self._state:
            self._held_until = max(self._held_until, moment)
            self._next_request_at = max(self._next_request_at, moment)
            self._next_tokens_at = max(self._next_tokens_at, moment)

    def _reset_seconds(self, headers: Mapping[str, str], bucket: _Bucket) -> float | None:
        text = headers.get(bucket.reset)
        if text is None:
            return None
        if not bucket.absolute_reset:
            return go_duration_seconds(text)
        try:
            return max(0.0, (datetime.fromisoformat(text) - self._timing.wall_clock()).total_seconds())
        except ValueError:
            return None


def _next_slot(due: float, now: float, interval: float) -> float:
    """When the send after one that went at ``now`` may go: one interval after the slot this one was due in, so a
    late wake-up (the sleep's overshoot, the GIL, a busy CPU) is made up instead of added to the job, but never
    earlier than the provider's one-second bucket allows: a send may run behind by at most what that bucket holds
    beyond the send itself (nothing at 60 a minute or less). The first send sets the pace, with no burst."""
    if due == float("-inf"):
        return now + interval
    slack = max(0.0, 1.0 - interval)
    return max(due + interval, now + interval - slack)


def _shortest(*waits: float | None) -> float | None:
    known = [wait_seconds for wait_seconds in waits if wait_seconds is not None and wait_seconds >= 0]
    return min(known) if known else None


class Verdict(Enum):
    FINAL = "final"
    RETRY = "retry"
    RETRY_RATE_LIMITED = "retry after a rate limit"
    STOP_RUN = "stop the run"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    wait_seconds: float = 0.0
    reason: str = ""


class RetryPolicy:
    """What to do with one answer. The SDKs' own retries are off (``max_retries=0``) because they are wrong for a
    long job (§1): openai-python gives up at once on a ``retry-after`` over 120 s and retries insufficient_quota;
    anthropic-sdk-python ignores a ``retry-after`` over 60 s. Here a 429 is waited out however long it asks, quota
    and spend-limit refusals stop the run, "Request too large" is final, and ``x-should-retry`` wins as in the
    SDKs."""

    def __init__(self, limits: Limits, timing: Timing) -> None:
        self._limits = limits
        self._timing = timing

    def decide(self, answer: HttpAnswer | None, *, retries: int, rate_limit_retries: int) -> Decision:
        """``answer`` None means the connection was lost. ``retries`` counts this request's earlier non-429
        retries, ``rate_limit_retries`` its earlier 429 retries."""
        if answer is not None and 200 <= answer.status_code < 300:
            return Decision(Verdict.FINAL)
        error = _error_of(answer.body) if answer is not None else {}
        if answer is not None and answer.status_code == 429 and _is_out_of_quota(error):
            return Decision(Verdict.STOP_RUN, reason=" ".join(str(error.get("message") or "no message").split()))
        should_retry = answer.headers.get("x-should-retry") if answer is not None else None
        if should_retry == "false":
            return Decision(Verdict.FINAL)
        if answer is not None and answer.status_code == 429:
            too_large = str(error.get("message") or "").startswith("Request too large")
            asked = _retry_after_seconds(answer.headers, self._timing.wall_clock())
            endless = asked is None and rate_limit_retries >= self._limits.max_retries * 4
            if (too_large and should_retry != "true") or endless:
                return Decision(Verdict.FINAL)
            wait_seconds = asked if asked is not None else self._backoff(rate_limit_retries)
            return Decision(Verdict.RETRY_RATE_LIMITED, wait_seconds)
        retryable = answer is None or answer.status_code in (408, 409) or answer.status_code >= 500
        if (retryable or should_retry == "true") and retries < self._limits.max_retries:
            return Decision(Verdict.RETRY, self._backoff(retries))
        return Decision(Verdict.FINAL)

    def _backoff(self, earlier_retries: int) -> float:
        """Exponential, capped, with the SDKs' jitter (times 0.75 to 1) so that requests refused together do not
        come back together."""
        base = self._limits.first_backoff_seconds * 2.0 ** min(earlier_retries, 60)
        return min(base, self._limits.max_backoff_seconds) * random.uniform(0.75, 1.0)


def _error_of(body: bytes) -> dict[str, object]:
    """The ``error`` object of an OpenAI or Anthropic error body, or empty when the body is not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _is_out_of_quota(error: Mapping[str, object]) -> bool:
    """OpenAI's insufficient_quota and Anthropic's enforced spend limit (§1) are 429s that no wait cures."""
    details = error.get("details")
    spend_limit = isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached"
    return spend_limit or "insufficient_quota" in (error.get("type"), error.get("code"))


def _retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """``retry-after-ms`` first, then ``retry-after`` in seconds or as an HTTP date, as openai-python reads them."""
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None and milliseconds > 0:
        return milliseconds / 1000.0
    text = headers.get("retry-after")
    seconds = _number(text)
    if seconds is None and text:
        try:
            seconds = (parsedate_to_datetime(text) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return seconds if seconds is not None and seconds > 0 else None


class JobStore:
    """The output, error and journal files. Each line is appended and flushed at once under one lock, so a SIGKILL
    loses at most the answers still in flight (flushed bytes belong to the OS, which outlives the process). At
    start it reads back what a previous run wrote, cutting a torn last line (a kill mid-write) before appending."""

    def __init__(self, files: JobFiles, lines: ResultLines, progress: Callable[[int], None] | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.answered: set[str] = set()
        for path in (files.output, files.errors, files.journal):
            _cut_torn_last_line(path)
        for path in (files.output, files.errors):
            self.answered.update(lines.custom_id_of(line) for line in _lines_of(path))
        journal = (line.decode() for line in _lines_of(files.journal))
        self.in_flight_when_killed = {custom_id for custom_id in journal if custom_id not in self.answered}
        self._output = files.output.open("ab")
        self._errors = files.errors.open("ab")
        self._journal = files.journal.open("ab")

    def journal(self, custom_id: str) -> None:
        self._write(self._journal, custom_id.encode())

    def append(self, line: bytes, *, is_error: bool) -> None:
        self._write(self._errors if is_error else self._output, line)
        if self._progress is not None:
            with self._lock:
                self._progress(1)

    def _write(self, file: BinaryIO, line: bytes) -> None:
        if b"\n" in line:
            raise ValueError(f"a result or journal line must be one line: {line[:80]!r}")
        with self._lock:
            file.write(line + b"\n")
            file.flush()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for file in (self._output, self._errors, self._journal):
            file.close()


def _cut_torn_last_line(path: Path) -> None:
    """A last line without its newline is a write the kill interrupted: cut it, so the next line starts clean.
    Creates the file and its folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    with path.open("r+b") as file:
        end = file.seek(0, 2)
        kept = end
        while kept > 0:
            start = max(0, kept - 65536)
            file.seek(start)
            newline = file.read(kept - start).rfind(b"\n")
            if newline >= 0:
                kept = start + newline + 1
                break
            kept = start
        if kept != end:
            file.truncate(kept)


def _lines_of(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        yield from (line.rstrip(b"\n") for line in file if line.strip())


@dataclass
class _Tally:
    """One request's attempts, or (summed by the run loop) the run's."""

    sent: int = 0
    resent_after_crash: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0

    def add(self, other: _Tally) -> None:
        for name in (each.name for each in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Run:
    """What the worker threads share: the tools, and the stop signal with its one-line reason."""

    send: Send
    lines: ResultLines
    store: JobStore
    throttle: Throttle
    policy: RetryPolicy
    timing: Timing
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None

    def request(self, request: RealtimeRequest) -> _Tally:
        try:
            return self._attempts(request)
        except BaseException:
            self.stop.set()
            raise

    def _attempts(self, request: RealtimeRequest) -> _Tally:
        tally = _Tally()
        while self.throttle.acquire(request.rate_tokens, self.stop):
            if tally.sent == 0:
                self.store.journal(request.custom_id)
                tally.sent = 1
                tally.resent_after_crash = int(request.custom_id in self.store.in_flight_when_killed)
            else:
                tally.retries += 1
            lost_because = ""
            try:
                answer: HttpAnswer | None = self.send(request)
            except ConnectionLost as lost:
                answer, lost_because = None, str(lost) or type(lost).__name__
            if answer is not None:
                self.throttle.observe(answer.headers)
            decision = self.policy.decide(
                answer, retries=tally.retries - tally.rate_limited, rate_limit_retries=tally.rate_limited
            )
            if decision.verdict is Verdict.FINAL:
                if answer is None:
                    line, is_error = self.lines.unanswered(request, code="connection_error", message=lost_because), True
                else:
                    line, is_error = self.lines.answered(request, answer)
                self.store.append(line, is_error=is_error)
                tally.failed, tally.succeeded = int(is_error), int(not is_error)
                return tally
            if decision.verdict is Verdict.STOP_RUN:
                self.stop_reason = self.stop_reason or f"the API answered insufficient_quota: {decision.reason}"
                self.stop.set()
                return tally
            tally.waited_seconds += decision.wait_seconds
            if decision.verdict is Verdict.RETRY_RATE_LIMITED:
                tally.rate_limited += 1
                self.throttle.hold_for(decision.wait_seconds)
            else:
                self._sleep_unless_stopped(decision.wait_seconds)
        return tally

    def _sleep_unless_stopped(self, seconds: float) -> None:
        until = self.timing.monotonic() + seconds
        while not self.stop.is_set() and (left := until - self.timing.monotonic()) > 0:
            self.timing.sleep(min(left, STOP_CHECK_SECONDS))


def _collect(in_flight: set[Future[_Tally]], total: _Tally, *, block: bool | None) -> set[Future[_Tally]]:
    """Add the finished requests' tallies to the run's (re-raising a worker's exception) and return those still
    running: ``block`` True waits for one to finish, False waits for none, None waits for all."""
    running: set[Future[_Tally]] = set()
    if block is None:
        done = wait(in_flight).done
    else:
        done, running = wait(in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED)
    for future in done:
        total.add(future.result())
    return running


def run_requests(
    requests: Iterable[RealtimeRequest],
    send: Send,
    *,
    files: JobFiles,
    lines: ResultLines,
    limits: Limits,
    timing: Timing = Timing(),
    progress: Callable[[int], None] | None = None,
) -> ExecutorReport:
    """Send every request not yet answered in ``files`` and write each final answer as a Batch API result line.

    Safe to run again on the same files after a kill: answered requests are skipped, and those the journal shows
    in flight are sent again (``resent_after_crash``). ``progress(1)`` is called for each line written, from the
    worker threads but never two at once; keep it quick. After insufficient_quota the run sends nothing more,
    lets the requests in flight finish and returns with ``stopped`` saying what to do; the refused requests get
    no line, so the next run sends them. An exception from ``send`` (other than ``ConnectionLost``), from the
    input or an interrupt stops new sends too, and is raised once the requests in flight have returned.
    """
    total = _Tally()
    requests_seen = answered_before = 0
    with JobStore(files, lines, progress) as store:
        run = _Run(send, lines, store, Throttle(limits, timing), RetryPolicy(limits, timing), timing)
        with ThreadPoolExecutor(max_workers=limits.max_concurrency, thread_name_prefix="realtime") as pool:
            in_flight: set[Future[_Tally]] = set()
            try:
                for request in requests:
                    requests_seen += 1
                    if request.custom_id in store.answered:
                        answered_before += 1
                        continue
                    while len(in_flight) >= limits.max_concurrency and not run.stop.is_set():
                        in_flight = _collect(in_flight, total, block=True)
                    if run.stop.is_set():
                        in_flight = _collect(in_flight, total, block=False)  # a worker's crash surfaces at once
                    else:
                        in_flight.add(pool.submit(run.request, request))
                _collect(in_flight, total, block=None)
            except BaseException:
                run.stop.set()
                raise
    unanswered = requests_seen - answered_before - total.succeeded - total.failed
    stopped = None
    if run.stop_reason is not None:
        stopped = f"{run.stop_reason}; {unanswered} requests wait unanswered: add credit and run again"
    return ExecutorReport(
        requests=requests_seen,
        answered_before=answered_before,
        sent=total.sent,
        succeeded=total.succeeded,
        failed=total.failed,
        resent_after_crash=total.resent_after_crash,
        retries=total.retries,
        rate_limited=total.rate_limited,
        waited_seconds=total.waited_seconds,
        stopped=stopped,
    )
