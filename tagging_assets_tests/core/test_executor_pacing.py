"""Pacing: sends spaced evenly under the per-minute limits, slowed by the answers' rate-limit headers, and the
waits a 429 asks for read from its headers. Asserted through the fake clock, never through wall-clock time."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from tagging_assets.core.executor import (
    STOP_CHECK_SECONDS,
    Limits,
    RetryPolicy,
    Throttle,
    Timing,
    Verdict,
    go_duration_seconds,
    run_requests,
)
from tagging_assets_tests.core.test_executor import (
    START,
    FakeClock,
    JsonLines,
    ScriptedServer,
    answer,
    custom_id,
    gaps,
    job_files,
    make_requests,
    run,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_sends_are_spaced_evenly_at_the_requests_per_minute_limit(tmp_path, clock):
    server = ScriptedServer(clock)
    run(tmp_path, server, count=100, max_concurrency=1, requests_per_minute=3000)
    assert len(server.received) == 100
    assert min(gaps(server)) >= 60 / 3000 - 1e-9
    assert max(gaps(server)) <= 60 / 3000 + 1e-9, "evenly: no burst then stall"


def test_a_thousand_requests_at_3000_rpm_take_about_twenty_seconds_whatever_the_concurrency(tmp_path, clock):
    server = ScriptedServer(clock)
    report = run(tmp_path, server, count=1000, max_concurrency=16, requests_per_minute=3000)
    assert report.succeeded == 1000
    assert clock.now == pytest.approx(999 * 60 / 3000, abs=0.05)
    sent_in_first_second = sum(1 for _, at in server.received if at < 1.0)
    assert sent_in_first_second <= 50 + 16, "at most the quantized 50 a second, and those already past the gate"


def test_each_request_s_rate_tokens_space_the_sends_under_a_tokens_per_minute_limit(tmp_path, clock):
    server = ScriptedServer(clock)
    run_requests(
        make_requests(10, rate_tokens=1000),
        server,
        files=job_files(tmp_path),
        lines=JsonLines(),
        limits=Limits(max_concurrency=1, tokens_per_minute=60_000, requests_per_minute=6000),
        timing=clock.timing,
    )
    assert all(gap == pytest.approx(1000 * 60 / 60_000) for gap in gaps(server))


def test_without_limits_nothing_waits(tmp_path, clock):
    run(tmp_path, ScriptedServer(clock), count=50, max_concurrency=8)
    assert clock.waits == []


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30.5s"}, 90.5),
        (
            {
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "6m0s",
                "x-ratelimit-limit-requests": "3000",
            },
            0.02,
        ),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-limit-requests": "60"}, 1.0),
        (
            {
                "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": (START + timedelta(seconds=2)).isoformat().replace("+00:00", "Z"),
            },
            2.0,
        ),
        (
            {
                "x-ratelimit-remaining-tokens": "50",
                "x-ratelimit-reset-tokens": "6m0s",
                "x-ratelimit-limit-tokens": "6000",
            },
            (100 - 50) * 60 / 6000,
        ),
        ({"x-ratelimit-remaining-tokens": "50", "x-ratelimit-reset-tokens": "20ms"}, 0.02),
    ],
    ids=["reset", "capped-by-limit", "limit-only", "anthropic-rfc3339", "tokens-short", "tokens-reset"],
)
def test_an_empty_bucket_in_the_headers_holds_the_next_send(tmp_path, clock, headers, held):
    server = ScriptedServer(clock, {custom_id(0): [answer(200, **headers)]})
    report = run(tmp_path, server, count=2, max_concurrency=1)
    assert report.succeeded == 2
    assert gaps(server) == [pytest.approx(held)]


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-remaining-requests": "12", "x-ratelimit-reset-requests": "1s"},
        {"x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "6m0s"},
        {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-limit-tokens": "-1"},
    ],
    ids=["requests-left", "tokens-left", "azure-unlimited"],
)
def test_a_bucket_with_room_or_no_reset_to_wait_for_holds_nothing(tmp_path, clock, headers):
    server = ScriptedServer(clock, {custom_id(0): [answer(200, **headers)]})
    run(tmp_path, server, count=2, max_concurrency=1)
    assert clock.waits == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20ms", 0.02), ("1s", 1.0), ("6m0s", 360.0), ("1m30.5s", 90.5), ("1h2m", 3720.0), ("250us", 0.00025)],
)
def test_go_durations_are_read_as_openai_writes_them(text, seconds):
    assert go_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "1", "1x", "s", "-1s", "1s later"])
def test_what_is_not_a_go_duration_is_none(text):
    assert go_duration_seconds(text) is None


def decide(clock: FakeClock, status: int, *, rate_limit_retries: int = 0, **headers: str):
    policy = RetryPolicy(Limits(max_retries=2), clock.timing)
    return policy.decide(answer(status, {"message": "x"}, **headers), retries=0, rate_limit_retries=rate_limit_retries)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry_after_ms": "130000", "retry_after": "1"}, 130.0),
        ({"retry_after": "300"}, 300.0),
        ({"retry_after": format_datetime(START + timedelta(minutes=10), usegmt=True)}, 600.0),
    ],
    ids=["ms-first", "seconds", "http-date"],
)
def test_a_429_waits_what_its_headers_ask_even_beyond_the_sdks_caps(clock, headers, seconds):
    decision = decide(clock, 429, **headers)
    assert decision.verdict is Verdict.RETRY_RATE_LIMITED
    assert decision.wait_seconds == pytest.approx(seconds)


def test_a_429_that_names_its_wait_is_obeyed_however_often_it_comes(clock):
    """A limit the project's own is set above refuses many times over; only a 429 naming no wait can be endless."""
    assert decide(clock, 429, rate_limit_retries=1_000, retry_after_ms="20").verdict is Verdict.RETRY_RATE_LIMITED


@pytest.mark.parametrize("headers", [{}, {"retry_after": "0"}, {"retry_after": "tomorrow"}, {"retry_after_ms": "-5"}])
def test_a_429_without_a_usable_retry_after_backs_off_exponentially(clock, headers):
    assert 0.75 <= decide(clock, 429, **headers).wait_seconds <= 1.0
    assert 3.0 <= decide(clock, 429, rate_limit_retries=2, **headers).wait_seconds <= 4.0


def test_the_policy_s_verdicts_for_each_kind_of_answer(clock):
    assert decide(clock, 200).verdict is Verdict.FINAL
    assert decide(clock, 404).verdict is Verdict.FINAL
    assert decide(clock, 500).verdict is Verdict.RETRY
    assert decide(clock, 429, rate_limit_retries=2 * 4).verdict is Verdict.FINAL
    assert decide(clock, 429, rate_limit_retries=2 * 4 - 1).verdict is Verdict.RETRY_RATE_LIMITED
    assert decide(clock, 429, x_should_retry="false").verdict is Verdict.FINAL
    policy = RetryPolicy(Limits(max_retries=2), clock.timing)
    assert policy.decide(None, retries=1, rate_limit_retries=0).verdict is Verdict.RETRY
    assert policy.decide(None, retries=2, rate_limit_retries=0).verdict is Verdict.FINAL
    not_json = answer(429)
    assert policy.decide(not_json, retries=0, rate_limit_retries=0).verdict is Verdict.RETRY_RATE_LIMITED


@pytest.mark.parametrize(
    "limits",
    [{"max_concurrency": 0}, {"max_retries": -1}, {"requests_per_minute": 0}, {"tokens_per_minute": -5}],
)
def test_limits_that_cannot_work_are_refused(limits):
    with pytest.raises(ValueError, match="must be at least"):
        Limits(**limits)


def test_a_run_stopped_during_a_long_429_wait_leaves_it_within_one_slice(clock):
    stop = threading.Event()

    def sleep_then_stop(seconds: float) -> None:
        clock.sleep(seconds)
        stop.set()

    throttle = Throttle(Limits(), Timing(sleep=sleep_then_stop, monotonic=clock.monotonic))
    throttle.hold_for(3600.0)
    assert throttle.acquire(100, stop) is False
    assert clock.now == STOP_CHECK_SECONDS


class LateClock(FakeClock):
    """A clock whose sleeps overshoot, as a busy machine's do."""

    def __init__(self, overshoot: float) -> None:
        super().__init__()
        self.overshoot = overshoot

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + self.overshoot)


def _acquire_times(throttle: Throttle, clock: FakeClock, count: int) -> list[float]:
    stop = threading.Event()
    times = []
    for _ in range(count):
        assert throttle.acquire(1, stop)
        times.append(clock.now)
    return times


def test_late_wake_ups_are_made_up_within_the_providers_one_second_bucket():
    clock = LateClock(overshoot=0.005)
    times = _acquire_times(Throttle(Limits(requests_per_minute=3_000), clock.timing), clock, 1_000)
    assert times[-1] - times[0] == pytest.approx(999 * 0.02, abs=0.03), "the pace holds, the lateness is not added"
    assert all(later - earlier >= 0.015 for earlier, later in pairwise(times))


def test_at_sixty_a_minute_or_less_a_late_send_is_never_followed_early():
    clock = LateClock(overshoot=0.2)
    times = _acquire_times(Throttle(Limits(requests_per_minute=60), clock.timing), clock, 5)
    assert min(later - earlier for earlier, later in pairwise(times)) >= 1.0


def test_the_time_a_429_held_every_send_is_not_made_up_in_a_burst(clock):
    throttle = Throttle(Limits(requests_per_minute=3_000), clock.timing)
    _acquire_times(throttle, clock, 3)
    throttle.hold_for(5.0)
    times = _acquire_times(throttle, clock, 4)
    assert times[0] >= 5.0
    assert [later - earlier for earlier, later in pairwise(times)] == pytest.approx([0.02] * 3)
