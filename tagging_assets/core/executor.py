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

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields

from tagging_assets.core.job_store import JobStore
from tagging_assets.core.realtime_calls import (
    REAL_TIME,
    ConnectionLost,
    ExecutorReport,
    HttpAnswer,
    HttpResponse,
    JobFiles,
    Limits,
    RealtimeRequest,
    ResultLines,
    Send,
    Timing,
)
from tagging_assets.core.retry_policy import Decision, RetryPolicy, Verdict
from tagging_assets.core.throttle import STOP_CHECK_SECONDS, Throttle, go_duration_seconds

__all__ = [
    "STOP_CHECK_SECONDS",
    "ConnectionLost",
    "Decision",
    "ExecutorReport",
    "HttpAnswer",
    "HttpResponse",
    "JobFiles",
    "JobStore",
    "Limits",
    "RealtimeRequest",
    "ResultLines",
    "RetryPolicy",
    "Send",
    "Throttle",
    "Timing",
    "Verdict",
    "go_duration_seconds",
    "run_requests",
]
"""The executor is the one surface its callers import; its parts live in the modules above."""


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
                self.stop_reason = self.stop_reason or f"the API answered {decision.reason}"
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
    timing: Timing = REAL_TIME,
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
