"""The monitor: one scheduler polling every tracked run — the thin async driver.

One heap of due times and one task driving it (never a loop per run); a global cap on requests
in flight that follows the server's latency (concurrency only hides latency; extra pooled
connections cost CPU on every request); per crew a request rate learnt from 429s that is never
exceeded afterwards, the client's circuit breaker, and plain-words health. Each observed
change goes to the store first, then out as an event.

The decisions live in synchronous parts, each readable alone:
- `schedule`: the heap of due times and the cap on requests in flight;
- `phases`: how long each phase of a crew's runs lasts, learnt from the polls;
- `plan`: when to look at a run next, from its interval and its crew's phases;
- `health`: a crew's health from its requests' outcomes;
- `stalls`: when a run without progress is stalled;
- `stats`: a crew's durations, latency and error rate (`Monitor.crew_stats`);
- `tracking`: the records of crews and runs, and all that needs no request;
- `coalesce`: which loose polls, due soon, go along with a wake-up's.
This module sends the requests and applies their answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus
from crewdash.core.models import RunChanged, RunRecord
from crewdash.core.monitor.coalesce import Coalescing
from crewdash.core.monitor.health import NOTE_TOKEN, held_detail
from crewdash.core.monitor.phases import Phase, phase_of
from crewdash.core.monitor.ports import MonitorStore, StatusClient
from crewdash.core.monitor.settings import MonitorSettings
from crewdash.core.monitor.stats import CrewStats
from crewdash.core.monitor.tick import FINISHED, Tick
from crewdash.core.monitor.tracking import NOTE_EXPIRED, TrackedCrew, TrackedRun, seen_key
from crewdash.core.timing import Clock, sleep_or_wake

log = logging.getLogger(__name__)

_UNREACHABLE = (ConnectionFailedError, RequestTimeoutError, CircuitOpenError, ServerError)


class Monitor(Coalescing):
    """Polls every tracked run; see the module docstring. Call `start()` inside the loop."""

    def __init__(
        self,
        store: MonitorStore,
        bus: EventBus,
        *,
        clock: Clock | None = None,
        settings: MonitorSettings | None = None,
        rng: random.Random | None = None,
        on_status: Callable[[RunRecord, RunStatus], Awaitable[None] | None] | None = None,
    ) -> None:
        super().__init__(store, bus, clock=clock, settings=settings, rng=rng)
        self.on_status = on_status
        self._in_flight = 0
        self._slot = asyncio.Event()  # set when a request in flight ends
        self.peak_in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._driver: asyncio.Task[None] | None = None
        self._tick = Tick(store, bus)  # one transaction per turn of the loop for the changes

    async def refresh(self, local_id: str) -> RunRecord | None:
        """Poll now and return the record after that poll (or as stored if not tracked)."""
        run = self._runs.get(local_id)
        if run is None or self._driver is None:  # not tracked, or nothing would poll it
            return self.store.get(local_id)
        fut: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
        run.waiters.append(fut)
        self.poll_now(local_id)
        return await fut

    # --- the driver ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._driver is None:
            self._driver = asyncio.create_task(self._drive(), name="crewdash-monitor")

    async def stop(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # No poll will come now: a refresh() still waiting gets the record as it stands
        # (it waited forever before, and its caller wrote to a store closed meanwhile).
        for run in self._runs.values():
            self._resolve(run)

    async def _drive(self) -> None:
        while True:
            try:
                await self._drive_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the monitor's scheduler failed; carrying on")
                await self.clock.sleep(0.1)

    async def _drive_once(self) -> None:
        """Dispatch what is due, then wait for the next due time or a wake-up."""
        now = self.clock.monotonic()
        slack = self.settings.slack
        full = self._dispatch(now)
        self._wake.clear()
        next_due = self._heap.next_due()
        if next_due is not None and full and next_due <= now + slack:
            self._slot.clear()
            await self._slot.wait()  # a slot frees up: go round again
        elif next_due is not None:
            await sleep_or_wake(self.clock, next_due - now, self._wake)
        else:
            await self._wake.wait()

    def _dispatch(self, now: float) -> bool:
        """Send every poll due by `now` (within the slack) that may go; True if the cap on
        requests in flight stopped it."""
        slack, launched = self.settings.slack, False
        while (entry := self._heap.peek()) is not None and entry.due <= now + slack:
            run = self._runs.get(entry.local_id)
            if run is None or run.gen != entry.gen or run.in_flight:
                self._heap.pop()
                continue
            crew = self._crews[run.record.crew]
            if crew.health.rejected:
                self._heap.pop()
                self._park(crew, run)
                continue
            later = self._planner.replan(run, crew.phases, crew.config, now, run.waiting)
            if later is not None:
                self._heap.pop()
                self._push(run, later)
                continue
            if self._in_flight >= self.cap:
                return True  # the driver waits for a slot
            wait = crew.rate.admit(now)
            self._heap.pop()
            if wait > 0:
                # past the slack, or this loop (whose `now` is fixed) would spin on it
                self._push(run, now + max(wait, 2 * slack + 1e-3))
                continue
            self._launch(run, crew, now)
            launched = True
        if launched:  # a wake-up spent anyway: loose polls due soon come along (coalesce.py)
            self._take_along(now)
        return self._in_flight >= self.cap

    def _launch(self, run: TrackedRun, crew: TrackedCrew, now: float) -> None:
        run.in_flight = True
        run.urgent = False
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        crew.requests += 1
        task = asyncio.create_task(self._poll(run, crew, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self, run: TrackedRun, crew: TrackedCrew, sent_at: float) -> None:
        delay: float | None
        try:
            delay = await self._poll_outcome(run, crew, sent_at)
        except asyncio.CancelledError:
            run.in_flight = False
            raise
        except Exception:
            # Even a failing handler (say, the store refusing a write) must not leave the run
            # unscheduled: log it and try again later.
            log.exception("handling the status of %s failed", run.record.local_id)
            delay = crew.config.poll_max
        if delay is not FINISHED:
            self._finish(run, sent_at, delay)

    def _finish(self, run: TrackedRun, sent_at: float, delay: float | None) -> None:
        """The poll is over: its waiters get the record, the run its next due time."""
        run.in_flight = False
        run.last_poll = sent_at
        if run.record.local_id not in self._runs:
            self._resolve(run)
            return
        if run.waiters:
            self._resolve(run)
        if run.again:
            run.again = False
            delay = 0.0
        if delay is not None:
            self._push(run, self.clock.monotonic() + delay)

    async def _poll_outcome(
        self, run: TrackedRun, crew: TrackedCrew, sent_at: float
    ) -> float | None:
        """One status request and what follows from it; returns the delay to the next."""
        kickoff_id = run.record.kickoff_id
        assert kickoff_id is not None
        try:
            try:
                status = await crew.client.status(kickoff_id)
            except Exception as exc:
                if not isinstance(exc, CircuitOpenError):  # held back: never sent
                    crew.log.failed(self.clock.monotonic())
                raise
            finally:
                self._in_flight -= 1
                self._slot.set()
            now = self.clock.monotonic()
            self._cap.observe(now - sent_at, now)
            # handled in order with this turn's other answers, stored in one transaction, then
            # announced (tick.py)
            answered = functools.partial(self._answered, run, crew, status, sent_at, now)
            delay, after = await self._stored(run, answered, sent_at)
            if after is not None:
                await after
            return delay
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return self._on_error(run, crew, exc, sent_at)

    def _answered(
        self, run: TrackedRun, crew: TrackedCrew, status: RunStatus, sent_at: float, now: float
    ) -> tuple[float | None, Coroutine[Any, Any, None] | None]:
        delay = self._on_status(run, crew, status, sent_at, now)
        result = self.on_status(run.record, status) if self.on_status is not None else None
        return delay, result if asyncio.iscoroutine(result) else None

    def _on_error(
        self, run: TrackedRun, crew: TrackedCrew, exc: Exception, sent_at: float
    ) -> float | None:
        """A status request failed: what follows; the delay to the next (None: no more)."""
        if isinstance(exc, AuthenticationError):
            self._token_rejected(crew)
        elif isinstance(exc, NotFoundError):
            self._expired(run)
        elif isinstance(exc, RateLimitedError):
            now = self.clock.monotonic()
            rate = crew.rate.learn_429(now, exc.retry_after, sent_at=sent_at)
            if rate is not None:
                log.info("crew %s asked to slow down; at most %.2f req/s", crew.config.name, rate)
            return max(0.0, crew.rate.blocked_until - now)
        elif isinstance(exc, _UNREACHABLE):
            return self._on_failure(run, crew, exc)
        elif isinstance(exc, (ProtocolError, AOPError)):
            log.info("status of %s failed: %s", run.record.local_id, exc)
            return self._planner.stretch(run, crew.config)
        else:
            # Never let one odd answer stop the monitor; the run stays tracked.
            log.exception("unexpected failure polling %s", run.record.local_id)
            return self._planner.stretch(run, crew.config)
        return None

    # --- outcomes of one poll ------------------------------------------------------------

    def _on_status(
        self, run: TrackedRun, crew: TrackedCrew, status: RunStatus, sent_at: float, now: float
    ) -> float | None:
        was_offline = crew.health.offline_since is not None
        event = crew.health.succeeded(now - sent_at, now, self.clock.time())
        crew.log.answered(now, now - sent_at)
        if was_offline:
            self._flag_offline(crew, None)  # before the health event, as always
        self._publish(event)
        phase_before = run.phase
        changed = self._apply(run, crew, status, sent_at, now)
        record = run.record
        if record.offline_since is not None and crew.health.offline_since is None:
            run.record = self._flags(record, offline_since=None)
        if run.record.is_final:
            took = run.record.duration  # None: it ended unseen, and the server did not say
            if run.record.state is RunState.COMPLETED and took is not None:
                self.learn_duration(crew.config.name, took)
            self.untrack(record.local_id)
            return None
        if not changed:
            self._check_stall(run, crew, now)
        if run.phase == phase_before and run.phase_started is not None:
            age = sent_at - run.phase_started - run.start_slack
            crew.phases.survived(run.phase, run.record.local_id, age)
        return self._planner.next_delay(
            run, crew.phases, crew.config, now, changed=changed, waiting=run.waiting
        )

    def _apply(
        self, run: TrackedRun, crew: TrackedCrew, status: RunStatus, sent_at: float, now: float
    ) -> bool:
        """Store what the status says, learn from a change and announce it; True if changed."""
        key = seen_key(status)
        if key == run.seen:
            # Most polls: nothing changed since the status the store last applied. The record
            # in memory is current (every write of ours goes through run.record).
            run.seen_at = self.clock.time()
            return False
        record, changed = self.store.record_status(
            run.record.local_id, status, self.clock.time(), seen_at=run.seen_at
        )
        run.seen = key
        previous, run.record = run.record, record
        run.seen_at = self.clock.time()
        if not changed:
            return False
        old_phase = run.phase
        if self._learn_phase(run, crew, sent_at, now):
            self._phase_news(crew, old_phase, now)
        run.last_progress = now
        if record.stalled:
            run.record = self._flags(record, stalled=False, publish=False)
        self.bus.publish(RunChanged(run.record, previous))
        return True

    def _learn_phase(self, run: TrackedRun, crew: TrackedCrew, sent_at: float, now: float) -> bool:
        """Date the change just seen and learn from it; True if the old phase just became
        known or trusted (the runs waiting in it may be due sooner)."""
        new_phase = phase_of(run.record)
        if new_phase == run.phase:
            return False
        self._left_phase(run)
        dated = crew.phases.date_change(
            run.phase,
            run.phase_started,
            run.start_slack,
            run.last_poll,
            sent_at,
            now,
            crew.config.poll_min,
            early=run.start_early,
        )
        run.phase, run.phase_started, run.start_slack = new_phase, dated.started, dated.slack
        run.start_early = dated.early
        crew.phases.entered(new_phase, run.record.local_id, run.record.created_at)
        return dated.news

    def _phase_news(self, crew: TrackedCrew, phase: Phase, now: float) -> None:
        """`phase` just became known or trusted: a run waiting in it on the runs ahead (or on
        its stretch) is due when the learnt length says, if that is sooner."""
        if crew.phases.expected(phase) is None:
            return
        for run in self._runs.values():
            if (
                run.phase != phase
                or run.in_flight
                or run.phase_started is None
                or run.record.crew != crew.config.name
                or run.waiting
            ):
                continue
            due = self._planner.news_due(run, crew.phases, crew.config, now)
            if due is not None and due < run.due - self.settings.slack:
                self._push(run, due)

    def _on_failure(self, run: TrackedRun, crew: TrackedCrew, exc: AOPError) -> float:
        """The crew did not answer (or the client held the request back)."""
        held = isinstance(exc, CircuitOpenError)  # not sent: no evidence either way
        was_offline = crew.health.offline_since is not None
        now, wall = self.clock.monotonic(), self.clock.time()
        self._publish(crew.health.failed(exc.kind, now, wall, held=held))
        since = crew.health.offline_since
        if since is not None and not was_offline:
            self._flag_offline(crew, since)  # the crew just went offline: all its runs show it
        elif since is not None and run.record.offline_since is None:
            run.record = self._flags(run.record, offline_since=since)
        if isinstance(exc, CircuitOpenError):
            return max(crew.config.poll_min, exc.retry_in)
        return self._planner.stretch(run, crew.config)


__all__ = [
    "NOTE_EXPIRED",
    "NOTE_TOKEN",
    "CrewStats",
    "Monitor",
    "MonitorSettings",
    "StatusClient",
    "held_detail",
]
