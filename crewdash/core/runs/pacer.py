"""One pacer per crew: every request to a crew waits its turn here, and every 429 teaches it.

A `Pacer` wraps the crew's `CrewRate` (the token bucket learnt from 429s, and the pause a
Retry-After asks for) with an async `wait()`. The learnt rate is kept in the run store
(`meta` key `rate:<crew>`), so the next process — a batch run again, a `watch` beside it —
starts paced instead of learning it again from a burst of 429s.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

from crewdash.aop.protocol import CrewProtocol
from crewdash.core.runs.ratelimit import CrewRate, TokenBucket
from crewdash.core.timing import Clock, LoopClock, sleep_or_wake

log = logging.getLogger(__name__)

#: a learnt rate older than this is forgotten (the deployment's limits may have changed)
RATE_MEMORY = 24 * 3600.0


class MetaStore(Protocol):
    """Where learnt rates are kept: the run store's `meta` table is one."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


def _meta_key(crew: str) -> str:
    return f"rate:{crew}"


def load_rate(store: MetaStore, crew: str, now: float) -> float | None:
    """The rate a process learnt for this crew, if recent; None otherwise."""
    try:
        raw = store.get_meta(_meta_key(crew))
        if raw is None:
            return None
        data = json.loads(raw)
        rate, at = float(data["rate"]), float(data["at"])
    except (ValueError, KeyError, TypeError):
        return None
    except Exception:  # a closed or unreadable store: pace from scratch
        return None
    if rate <= 0 or now - at > RATE_MEMORY:
        return None
    return rate


def save_rate(store: MetaStore, crew: str, rate: float, now: float) -> None:
    try:
        store.set_meta(_meta_key(crew), json.dumps({"rate": rate, "at": now}))
    except Exception:  # pacing must never fail a request
        log.debug("could not save the learnt rate of %s", crew, exc_info=True)


class Pacer:
    """The request pace of one crew. `await wait()` before each request (returns the
    monotonic time it may go); `learn_429(retry_after, sent_at)` after a 429;
    `pause(seconds)` after a 503 or another "not now".

    It is the `crewdash.aop.protocol.Pacer` a client is given, so the client's own requests
    and crewdash's kickoffs share one pace; `pacer_of(client)` gives it back typed as this."""

    def __init__(
        self,
        crew: str,
        *,
        clock: Clock | None = None,
        store: MetaStore | None = None,
        rate: CrewRate | None = None,
    ) -> None:
        self.crew = crew
        self.clock: Clock = clock or LoopClock()
        self.store = store
        self.rate = rate or CrewRate()
        self.waited = 0.0  # seconds spent waiting, for reports
        if store is not None and self.rate.bucket is None:
            learnt = load_rate(store, crew, self.clock.time())
            if learnt is not None:
                now = self.clock.monotonic()
                bucket = TokenBucket(learnt, capacity=learnt * self.rate.burst, now=now)
                bucket.tokens = bucket.capacity  # a fresh process may send a small burst
                self.rate.bucket = bucket

    @property
    def learnt_rate(self) -> float | None:
        return self.rate.learnt_rate

    async def wait(self, stop: asyncio.Event | None = None) -> float | None:
        """Wait for this crew's turn; the monotonic time the request may go, or None when
        `stop` was set first (nothing was admitted)."""
        while True:
            if stop is not None and stop.is_set():
                return None
            now = self.clock.monotonic()
            delay = self.rate.admit(now)
            if delay <= 0:
                return now
            delay = max(delay, 0.001)  # a float's last bit must not make this spin
            self.waited += delay
            if stop is None:
                await self.clock.sleep(delay)
            else:
                await sleep_or_wake(self.clock, delay, stop)

    def learn_429(self, retry_after: float | None, sent_at: float | None = None) -> float | None:
        rate = self.rate.learn_429(self.clock.monotonic(), retry_after, sent_at=sent_at)
        if rate is not None and self.store is not None:
            save_rate(self.store, self.crew, rate, self.clock.time())
        return rate

    def pause(self, seconds: float) -> None:
        now = self.clock.monotonic()
        self.rate.blocked_until = max(self.rate.blocked_until, now + min(seconds, 300.0))


def pacer_of(client: CrewProtocol[Any]) -> Pacer | None:
    """The `Pacer` a client was built with: `client.pacer` is typed as the aop seam (anything
    with `wait` and `learn_429`), while a kickoff needs crewdash's own (it waits with a stop
    event and pauses after a 503). None when the client has none, or another kind."""
    pacer = client.pacer
    return pacer if isinstance(pacer, Pacer) else None


class Pacers:
    """The pacers of one process, one per crew, made on first use."""

    def __init__(self, store: MetaStore | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or LoopClock()
        self._pacers: dict[str, Pacer] = {}

    def get(self, crew: str, *, rate: CrewRate | None = None) -> Pacer:
        pacer = self._pacers.get(crew)
        if pacer is None:
            pacer = Pacer(crew, clock=self.clock, store=self.store, rate=rate)
            self._pacers[crew] = pacer
        return pacer

    def save(self) -> None:
        """Keep every learnt rate in the store (the monitor's polls learn into the same
        `CrewRate` without saving it themselves)."""
        if self.store is None:
            return
        for crew, pacer in self._pacers.items():
            rate = pacer.learnt_rate
            if rate is not None:
                save_rate(self.store, crew, rate, self.clock.time())


if TYPE_CHECKING:  # the seam, checked: crewdash's Pacer is one a client can be given
    from crewdash.aop.protocol import Pacer as ClientPacer

    _SEAM: ClientPacer = Pacer("seam")
