"""RetryPolicy and CircuitBreaker on a fake clock."""

from __future__ import annotations

import pytest

from crewdash.aop import CircuitBreaker, CircuitState, RetryPolicy


def test_full_jitter_is_between_zero_and_the_capped_exponential():
    policy = RetryPolicy(base=0.5, cap=4.0, random=lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert RetryPolicy(random=lambda: 0.0).backoff(3) == 0.0
    assert RetryPolicy(base=1.0, random=lambda: 0.25).backoff(3) == 1.0
    assert RetryPolicy(random=lambda: 1.0).backoff(10_000) == 8.0  # no overflow


def test_delay_counts_attempts_and_honours_retry_after():
    policy = RetryPolicy(
        max_attempts=3, base=1.0, cap=8.0, max_retry_after=60.0, random=lambda: 0.5
    )
    assert policy.delay(1, None) == 0.5
    assert policy.delay(2, 10.0) == 10.0  # the server's wait wins over a shorter backoff
    assert policy.delay(3, None) is None  # attempts used up
    assert policy.delay(1, 61.0) is None  # too long to wait inside a call


def test_none_means_a_single_attempt():
    assert RetryPolicy.none().delay(1, None) is None


def test_breaker_cycle(clock):
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10.0, clock=clock)
    assert breaker.allow() and breaker.state is CircuitState.CLOSED
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert breaker.opened_at == clock.monotonic()
    assert breaker.retry_in() == 10.0 and not breaker.allow()
    clock.advance(4.0)
    assert breaker.retry_in() == pytest.approx(6.0)
    clock.advance(6.0)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.record_failure()  # the probe failed: open again for a full cool-down
    assert breaker.state is CircuitState.OPEN and breaker.retry_in() == 10.0
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.opened_at is None
    assert breaker.failures == 0


def test_a_success_resets_the_failure_count(clock):
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
