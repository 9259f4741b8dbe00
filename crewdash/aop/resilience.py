"""Retry and circuit-breaker policy: plain state machines with no I/O of their own.

Time comes from an injected `Clock`; randomness from an injected `random` callable."""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field

from crewdash.aop.clock import Clock, SystemClock
from crewdash.aop.models import CircuitState


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (delay = U(0, min(cap, base·2^(n-1)))).

    `max_attempts` counts the first try. A Retry-After the server sends is honoured (the delay is
    at least that long) unless it exceeds `max_retry_after`: then the error goes to the caller,
    who can schedule the next try itself instead of blocking a call for that long."""

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=_random.random, compare=False, repr=False)

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """The delay after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt - 1, 62))
        return ceiling * self.random()

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when no attempt is left."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        return max(self.backoff(attempt), retry_after or 0.0)


class CircuitBreaker:
    """Closed → open after `failure_threshold` consecutive failures; after `cooldown` seconds
    one probe request is let through (half-open): success closes, failure opens again.

    8 by default: a crew that fails a quarter of its requests (5xx, cut connections) is
    unwell, not gone, and 5 failures in a row come about once per thousand requests there —
    each time stopping every request to the crew for the cool-down. A crew that is gone
    fails every request and opens the breaker after 8 all the same."""

    def __init__(
        self, failure_threshold: int = 8, cooldown: float = 30.0, *, clock: Clock | None = None
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.clock: Clock = clock or SystemClock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        """The state as it is now: an open breaker whose cool-down passed reads half-open."""
        if self._state is CircuitState.OPEN and self.retry_in() == 0.0:
            return CircuitState.HALF_OPEN
        return self._state

    @property
    def opened_at(self) -> float | None:
        """`clock.monotonic()` when the breaker last opened; None while closed."""
        return self._opened_at

    @property
    def failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until a probe may be sent; 0 when requests may go now."""
        if self._state is not CircuitState.OPEN or self._opened_at is None:
            return 0.0  # closed, or half-open: the probe's answer may come any moment
        return max(0.0, self._opened_at + self.cooldown - self.clock.monotonic())

    def allow(self) -> bool:
        """May a request be sent now? In half-open, only one probe at a time."""
        if self._state is CircuitState.CLOSED:
            return True
        if self._state is CircuitState.OPEN and self.retry_in() > 0.0:
            return False
        if self._probe_in_flight:
            return False
        self._state = CircuitState.HALF_OPEN
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._state = CircuitState.OPEN
            self._opened_at = self.clock.monotonic()
        self._probe_in_flight = False

    def release(self) -> None:
        """A request was abandoned (cancelled) without an outcome: free the probe slot."""
        self._probe_in_flight = False

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state.value}, failures={self._failures})"
