"""The rate limiter's arithmetic, on a clock the test moves: one second's worth per bucket, debt repaid by the
refill, the wait it reports, and how a request's tokens are counted."""

from __future__ import annotations

import pytest

from tagging_assets.gateway.limits import DEFAULT_OUTPUT_BUDGET, RateLimiter, go_duration, request_cost


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_minute_of_requests_is_enforced_as_one_second_of_them():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=3_000, tokens_per_minute=None, clock=clock)
    admitted = [limiter.admit("k", 1).refused is None for _ in range(60)]
    assert admitted == [True] * 50 + [False] * 10, "3,000/min holds 50 at once"
    refused = limiter.admit("k", 1)
    assert refused.refused == "requests" and refused.wait_seconds == pytest.approx(0.02)
    clock.now += 0.02
    assert limiter.admit("k", 1).refused is None, "the refill lets one in after the wait it announced"


def test_a_client_pacing_itself_at_the_limit_is_never_refused():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=600, tokens_per_minute=6_000, clock=clock)
    for _ in range(300):
        assert limiter.admit("k", 10).refused is None
        clock.now += 0.1


def test_a_costly_request_gets_in_on_a_full_bucket_and_leaves_a_debt():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=None, tokens_per_minute=600, clock=clock)
    first = limiter.admit("k", 300)
    assert first.refused is None and first.tokens is not None
    assert first.tokens.remaining == 0 and first.tokens.reset_seconds == pytest.approx(30.0)
    second = limiter.admit("k", 5)
    assert second.refused == "tokens" and second.wait_seconds == pytest.approx(29.5)
    clock.now += 29.5
    assert limiter.admit("k", 5).refused is None


def test_a_request_over_the_per_minute_tokens_is_refused_for_good():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=60, tokens_per_minute=600, clock=clock)
    assert limiter.admit("k", 601).refused == "too_large"
    assert limiter.admit("k", 600).refused is None, "the refusal took nothing from either bucket"


def test_each_key_has_its_own_buckets_and_a_small_limit_still_lets_one_in():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=3, tokens_per_minute=None, clock=clock)
    assert limiter.admit("a", 1).refused is None
    assert limiter.admit("b", 1).refused is None
    refused = limiter.admit("a", 1)
    assert refused.refused == "requests" and refused.wait_seconds == pytest.approx(20.0)
    assert refused.requests is not None and refused.requests.used == 3


def test_the_state_shows_the_share_left_and_the_time_until_full():
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=120, tokens_per_minute=None, clock=clock)
    limiter.admit("k", 1)
    state = limiter.peek("k").requests
    assert state is not None and (state.limit, state.remaining) == (120, 60)
    assert state.reset_seconds == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (0.0004, "1ms"), (0.02, "20ms"), (1.5, "1.5s"), (2, "2s"), (360, "6m0s"), (90.25, "1m30.25s")],
)
def test_durations_are_written_as_go_writes_them(seconds, shown):
    assert go_duration(seconds) == shown


def test_a_request_counts_its_output_budget_or_its_characters_whichever_is_more():
    short = {"messages": [{"role": "user", "content": "x" * 400}]}
    assert request_cost({**short, "max_completion_tokens": 300}) == 300
    assert request_cost({**short, "max_tokens": 50}) == 100, "400 characters are 100 tokens"
    assert request_cost({"input": "y" * 40, "max_output_tokens": 16}) == 16
    assert request_cost(short) == DEFAULT_OUTPUT_BUDGET
