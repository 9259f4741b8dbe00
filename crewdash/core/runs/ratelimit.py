"""Per-crew request rate: what the server told us with 429s, and a token bucket that keeps us
under it from then on. Pure arithmetic on times passed in, so tests need no clock."""

from __future__ import annotations

from collections import deque


class TokenBucket:
    """`rate` tokens per second, at most `capacity` saved up. `take(now)` returns 0.0 and spends
    a token when one is there, else the seconds until one will be (spending nothing)."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = 0.0  # learnt from a 429: start empty, the server is already unhappy
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
            self._at = now

    def take(self, now: float) -> float:
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


# a first 429 teaches a rate only after the server took this many of our requests
MIN_TAKEN = 5


class CrewRate:
    """What one crew allows. Unlimited until the first 429; then a learnt rate that only ever
    goes down, and a pause until the Retry-After the server asked for."""

    def __init__(
        self,
        *,
        window: float = 5.0,
        safety: float = 0.95,
        min_rate: float = 0.2,
        burst: float = 0.05,
    ) -> None:
        self.window = window
        # the share of the learnt rate to send at, and the factor of each later lowering:
        # 0.9 capped a batch at 90% of the crew's limit before any pause (issue 17); a rate
        # learnt from what was sent before the refused request and sent evenly (no bursts:
        # see `burst`) needs less slack
        self.safety = safety
        self.min_rate = min_rate
        # seconds' worth of requests that may go at once (at least one): against a server
        # counting requests in a sliding window, any second may carry rate + burst requests
        self.burst = burst
        self.history: list[tuple[float, float, float]] = []  # (when, rate, capacity) in force
        self.bucket: TokenBucket | None = None
        self.blocked_until = 0.0
        self._sent: deque[float] = deque()
        self._refused: deque[float] = deque()  # when 429s came back, over the same window
        self._first_sent: float | None = None
        self._learnt_at = float("-inf")

    @property
    def learnt_rate(self) -> float | None:
        return self.bucket.rate if self.bucket else None

    def admit(self, now: float) -> float:
        """0.0 if a request may go now (and count it), else how many seconds to wait."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.bucket is not None:
            wait = self.bucket.take(now)
            if wait > 0:
                return wait
        self._sent.append(now)
        if self._first_sent is None:
            self._first_sent = now
        while self._sent and self._sent[0] < now - self.window:
            self._sent.popleft()
        return 0.0

    def observed_rate(self, now: float) -> float:
        """Requests per second sent over the last window that the server took (those it
        answered 429 do not count: they are what it did not take)."""
        while self._sent and self._sent[0] < now - self.window:
            self._sent.popleft()
        while self._refused and self._refused[0] < now - self.window:
            self._refused.popleft()
        span = self.window
        if self._first_sent is not None:
            span = min(self.window, max(1.0, now - self._first_sent))
        return max(0, len(self._sent) - len(self._refused)) / span

    def _rate_before(self, sent_at: float) -> float:
        """Requests per second sent before `sent_at`: what the server had already counted
        when it refused the request sent then. `observed_rate` also counts the requests still
        on the wire at the 429 (a whole round of `--concurrency` of them, all refused too):
        at 10 in flight against 20/s it learnt 26/s, and three more 429s, each with a pause,
        took it down to 19 (issue 17)."""
        first = self._first_sent if self._first_sent is not None else sent_at
        span = min(self.window, max(1.0, sent_at - first))
        # up to and including `sent_at`, less the refused request itself: requests sent on
        # the same tick of a coarse (or fake) clock are counted, as the server may have
        sent = sum(1 for at in self._sent if sent_at - span <= at <= sent_at)
        return max(0, sent - 1) / span

    def _taken_before(self, now: float, sent_at: float | None) -> int:
        """How many of this process's requests the server took before the refused one."""
        if sent_at is None:
            return max(0, len(self._sent) - len(self._refused))
        return max(0, sum(1 for at in self._sent if at <= sent_at) - 1)

    def learn_429(
        self, now: float, retry_after: float | None, sent_at: float | None = None
    ) -> float | None:
        """Lower the rate below what got us the 429; returns the rate now in force. A 429 for a
        request sent before the last lowering was already accounted for: it only pauses. So
        does a first 429 that came before the server took MIN_TAKEN of this process's
        requests: the server's window was full of someone else's (another batch, a
        dashboard), which says nothing of the rate; learnt from it, the rate was the floor
        (0.2/s, kept for the next process too). None: no rate learnt."""
        pause = retry_after if retry_after is not None and retry_after > 0 else 1.0
        self.blocked_until = max(self.blocked_until, now + min(pause, 300.0))
        self._refused.append(now)
        if self.bucket is not None and sent_at is not None and sent_at < self._learnt_at:
            return self.bucket.rate
        observed = self.observed_rate(now)
        if sent_at is not None:
            observed = min(observed, self._rate_before(sent_at))
        if self.bucket is None and self._taken_before(now, sent_at) < MIN_TAKEN:
            return None
        self._learnt_at = now
        target = max(self.min_rate, observed * self.safety)
        if self.bucket is None:
            self.bucket = TokenBucket(target, capacity=target * self.burst, now=now)
        else:
            # Never raise it again: a 429 under the learnt rate means the server wants less.
            # Less than the rate in force, not less than what was sent lately: a crew asked
            # for fewer requests than its rate (a slow batch, few runs) would otherwise have
            # its rate cut to that demand by one 429.
            self.bucket.rate = max(self.min_rate, self.bucket.rate * self.safety)
            self.bucket.capacity = max(1.0, self.bucket.rate * self.burst)
            self.bucket.tokens = 0.0
        self.history.append((now, self.bucket.rate, self.bucket.capacity))
        return self.bucket.rate
