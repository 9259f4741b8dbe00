"""The monitor: one scheduler polling every tracked run.

One heap of due times and one task driving it (never a loop per run); a global cap on requests
in flight; per run an interval that starts at the crew's `poll_min`, stretches while nothing
changes up to `poll_max` and resets on a change, with jitter; per crew a request rate learnt
from 429s that is never exceeded afterwards, the client's circuit breaker, and plain-words
health. Each observed change goes to the store first, then out as an event.

A crew's health, from its status requests:
- token rejected: any 401 (from a poll here, or from any other request of the crew the engine
  saw: inputs, kickoff, resume, stop, health check). Its runs are parked until the token is
  replaced or a request of the crew succeeds again.
- offline: only on evidence that the crew is really unreachable: a request actually sent failed
  (connection, timeout, 5xx), at least `offline_after_failures` sent requests failed in a row
  with no success in between, and no request succeeded for `offline_after_seconds` (counted from
  the first failure when the crew was never reached). A request the client's circuit breaker
  held back was never sent: it is no evidence either way. One success clears offline at once.
- slow: answers slower than `slow_after` on average, or "flaky": at least `flaky_after` of the
  last `flaky_window` requests failed while others succeeded. Sporadic server errors are at
  most this, never offline.
- ok otherwise.

It also learns, per crew, how long each phase (state + current task) lasts — from the
brackets of polls around each change, intersected across runs while they agree — and spends
polls where they can see something: once a phase is trusted, one poll just after its expected
end; a run just kicked off counts its kickoff answer as its first look; in a phase no run has
finished yet, the runs behind follow the few ahead instead of each exploring it. poll_max
bounds every wait, so a change the learning did not expect is seen at most that late. The cap
on requests in flight follows the server's latency (concurrency only hides latency; extra
pooled connections cost CPU on every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import random
import statistics
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

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
from crewdash.core.config.model import CrewConfig
from crewdash.core.events import EventBus
from crewdash.core.models import (
    CrewHealth,
    CrewHealthChanged,
    KickoffPhase,
    RunChanged,
    RunRecord,
)
from crewdash.core.monitor.probe import flaky_detail, offline_detail, slow_detail
from crewdash.core.runs.ratelimit import CrewRate
from crewdash.core.timing import Clock, LoopClock, sleep_or_wake

log = logging.getLogger(__name__)

NOTE_EXPIRED = "expired or unknown on the server (404): no longer tracked"
NOTE_TOKEN = "token rejected (401): polling of this crew stopped until the token is fixed"

_UNREACHABLE = (ConnectionFailedError, RequestTimeoutError, CircuitOpenError, ServerError)


def held_detail(failures: int) -> str:
    """The detail while the client holds requests back after failures in a row (SLOW)."""
    return f"not answering: {failures} requests in a row failed; crewdash waits, then tries again"


class StatusClient(Protocol):
    async def status(self, kickoff_id: str) -> RunStatus: ...


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    max_in_flight: int = 16  # the global cap on status requests in flight
    # Concurrency only hides the server's latency: the client's own work per request is
    # about `request_cost` seconds of CPU, so more than latency / request_cost requests in
    # flight add no throughput, only connections whose upkeep costs CPU on every request
    # (httpcore's pool scans all of them). The cap in force follows the lowest latency seen
    # lately, between these bounds.
    min_in_flight: int = 4
    request_cost: float = 0.001
    latency_window: float = 5.0  # seconds over which that lowest latency is taken
    stretch: float = 1.5  # interval multiplier while nothing changes
    jitter: float = 0.1  # ± fraction of each interval
    slack: float = 0.005  # dispatch entries due this soon together (fewer wake-ups)
    offline_after_failures: int = 5  # sent requests failed in a row ...
    offline_after_seconds: float = 30.0  # ... with no success for this long: offline
    flaky_window: int = 20  # the last this many requests of a crew ...
    flaky_after: int = 2  # ... of which at least this many failed: "flaky" (SLOW)
    slow_after: float = 2.0  # status latency (EWMA, seconds) above which a crew is "slow"
    stall_factor: float = 3.0  # stalled: no progress for this times the crew's usual run time
    stall_floor: float = 120.0  # ... and never under this many seconds
    stall_default: float = 1800.0  # until `stall_min_samples` completed runs were seen
    stall_min_samples: int = 3
    phase_alpha: float = 0.3  # EWMA weight of a newly observed phase duration
    # A phase learnt from this many samples, whose lengths deviate (EWMA of |error|) by at most
    # this fraction, is trusted: no stretching polls before its expected end, only poll_max.
    trust_samples: int = 3
    trust_spread: float = 0.15
    # A trusted phase is polled this fraction of poll_min (or its usual error, if larger)
    # after its expected end.
    aim_floor: float = 0.05
    # Before a phase is trusted: once this many runs of a crew were all seen still in a phase
    # at an age, the crew's other runs in that phase are not polled before that age (only the
    # runs ahead explore; the others follow). 0 turns this off. poll_max still bounds every
    # wait, so a run whose phase is shorter than its fellows' is seen at most that late.
    survivors: int = 3


@dataclass(slots=True)
class _Run:
    record: RunRecord
    interval: float
    gen: int = 0
    in_flight: bool = False
    again: bool = False  # poll once more right after the one in flight
    urgent: bool = False  # asked for now (a refresh, a webhook): never put off
    due: float = 0.0  # when its next poll is planned
    last_poll: float | None = None  # monotonic
    phase: tuple[str, str] = ("", "")
    phase_started: float | None = None  # estimated monotonic start of the current phase
    start_slack: float = 0.0  # ... which may have been up to this much later
    last_progress: float = 0.0  # monotonic time of the last observed change
    seen: tuple[Any, ...] | None = None  # the last status the store has applied (see _seen_key)
    seen_at: float | None = None  # wall time of the last answer that found the run unfinished
    waiters: list[asyncio.Future[RunRecord]] = field(default_factory=list)


@dataclass(slots=True)
class _Crew:
    config: CrewConfig
    client: StatusClient
    rate: CrewRate = field(default_factory=CrewRate)
    health: CrewHealth = CrewHealth.UNKNOWN
    detail: str = ""
    since: float | None = None
    failures: int = 0
    last_ok: float = 0.0
    offline_since: float | None = None  # wall time
    rejected: bool = False
    parked: set[str] = field(default_factory=set)  # runs waiting for a usable token
    latency: float | None = None
    recent: deque[bool] = field(default_factory=deque)  # outcomes of the last requests (ok?)
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    phases: dict[tuple[str, str], float] = field(default_factory=dict)
    # per phase: (samples, EWMA of the absolute deviation of a sample from the estimate)
    spread: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    # per phase: how long each of the few runs furthest into it (and still in it) was seen
    # still in it (see _survived)
    survived: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    # per phase: the lengths every run seen so far agrees with (see _learn_sample)
    bounds: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    # (phase, first sample?) whose news the waiting runs were given (see _phase_news)
    announced: set[tuple[tuple[str, str], bool]] = field(default_factory=set)
    requests: int = 0


def _seen_key(status: RunStatus) -> tuple[Any, ...]:
    """Everything of a status the store derives a record from: the same key twice means the
    second changes nothing, so the monitor need not read the store to find that out."""
    progress = status.progress
    return (
        status.state,
        status.raw_state,
        status.current_task,
        None if progress is None else (progress.completed_tasks, progress.total_tasks),
        status.result,
        status.error,
    )


def _lead(poll_min: float, expected: float) -> float:
    """How long before an untrusted phase's expected end to look: bracket the end."""
    return min(0.1 * poll_min, 0.05 * expected)


def _phase_of(record: RunRecord) -> tuple[str, str]:
    # Every raw spelling of "queued" is one phase: the record a kickoff stores says "pending"
    # whatever word the deployment will use for it.
    raw = "pending" if record.state is RunState.PENDING else record.raw_state
    return (raw, record.current_task or "")


class Monitor:
    """Polls every tracked run; see the module docstring. Call `start()` inside the loop."""

    def __init__(
        self,
        store: Any,
        bus: EventBus,
        *,
        clock: Clock | None = None,
        settings: MonitorSettings | None = None,
        rng: random.Random | None = None,
        on_status: Callable[[RunRecord, RunStatus], Awaitable[None] | None] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock: Clock = clock or LoopClock()
        self.settings = settings or MonitorSettings()
        self.rng = rng or random.Random()
        self.on_status = on_status
        self._crews: dict[str, _Crew] = {}
        self._runs: dict[str, _Run] = {}
        self._heap: list[tuple[float, int, str, int]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._in_flight = 0
        self._slot = asyncio.Event()  # set when a request in flight ends
        self.peak_in_flight = 0
        self.cap = max(1, min(self.settings.min_in_flight, self.settings.max_in_flight))
        self._lat_floor = (float("inf"), float("inf"))  # lowest latency: this window, last
        self._lat_window_end: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._driver: asyncio.Task[None] | None = None

    # --- crews ---------------------------------------------------------------------------

    def add_crew(
        self, config: CrewConfig, client: StatusClient, *, rate: CrewRate | None = None
    ) -> None:
        """`rate`: the crew's pacer's, shared with every other request to the crew."""
        self._crews[config.name] = _Crew(config=config, client=client, rate=rate or CrewRate())

    def set_client(self, crew: str, client: StatusClient) -> None:
        """A new client for a crew (say, a fixed token): polling of parked runs resumes."""
        state = self._crews[crew]
        state.client = client
        if state.rejected:
            self._unpark(state, CrewHealth.UNKNOWN, "token replaced; checking")

    def token_rejected(self, crew: str) -> None:
        """Another request of the crew (inputs, kickoff, resume, stop, health) got a 401."""
        state = self._crews.get(crew)
        if state is not None:
            self._token_rejected(state)

    def token_accepted(self, crew: str) -> None:
        """Another request of the crew succeeded with its token: a rejection is over."""
        state = self._crews.get(crew)
        if state is not None and state.rejected:
            self._unpark(state, CrewHealth.OK, "ok")

    def is_rejected(self, crew: str) -> bool:
        state = self._crews.get(crew)
        return state is not None and state.rejected

    def _unpark(self, state: _Crew, health: CrewHealth, detail: str) -> None:
        state.rejected = False
        self._set_health(state, health, detail)
        for local_id in sorted(state.parked):
            record = self.store.get(local_id)
            if record is not None and not record.is_final:
                if record.note == NOTE_TOKEN:
                    record = self._flags(record, note=None)
                self.track(record)
        state.parked.clear()

    def has_crew(self, crew: str) -> bool:
        return crew in self._crews

    def crew_health(self, crew: str) -> tuple[CrewHealth, str]:
        state = self._crews.get(crew)
        if state is None:
            return (CrewHealth.UNKNOWN, "not configured")
        return (state.health, state.detail)

    def learnt_rate(self, crew: str) -> float | None:
        return self._crews[crew].rate.learnt_rate

    def requests_sent(self, crew: str | None = None) -> int:
        if crew is not None:
            return self._crews[crew].requests
        return sum(c.requests for c in self._crews.values())

    def typical_duration(self, crew: str) -> float | None:
        durations = self._crews[crew].durations
        return statistics.median(durations) if durations else None

    def learn_duration(self, crew: str, seconds: float) -> None:
        """A completed run's duration (also fed from the store's history on start)."""
        if crew in self._crews and seconds > 0:
            self._crews[crew].durations.append(seconds)

    # --- runs ----------------------------------------------------------------------------

    def tracked(self) -> set[str]:
        return set(self._runs)

    def polled_crews(self) -> set[str]:
        """The crews with at least one run being polled."""
        return {run.record.crew for run in self._runs.values()}

    def track(self, record: RunRecord, *, delay: float = 0.0) -> None:
        """Poll this run until it is final. Idempotent."""
        if record.kickoff_id is None or record.is_final:
            return
        crew = self._crews.get(record.crew)
        if crew is None:
            log.warning("run %s belongs to an unconfigured crew", record.local_id)
            return
        if crew.rejected:
            crew.parked.add(record.local_id)
            return
        if record.local_id in self._runs:
            return
        now = self.clock.monotonic()
        run = _Run(record=record, interval=crew.config.poll_min, last_progress=now)
        run.phase = _phase_of(record)
        self._runs[record.local_id] = run
        if delay <= 0 and self._just_accepted(run, crew, now):
            # The kickoff's answer said "queued" a moment ago: polling at once would only
            # say it again. Schedule it as after any observed change.
            delay = self._next_delay(run, crew, True, now)
        self._push(run, now + max(0.0, delay))

    def _just_accepted(self, run: _Run, crew: _Crew, now: float) -> bool:
        """A run accepted moments ago and not yet polled: its kickoff answer was the first
        observation (queued, at `updated_at`), and its queue phase began after `created_at`.
        Knowing both lets the first change be dated, so the phases after it are learnt and
        aimed at from the start (a run first seen mid-task has no known phase start)."""
        record = run.record
        age = self.clock.time() - record.updated_at
        if (
            record.phase is not KickoffPhase.ACCEPTED
            or record.state is not RunState.PENDING
            or record.completed_tasks is not None
            or not 0.0 <= age <= crew.config.poll_max
            or record.created_at > record.updated_at
        ):
            return False
        run.last_poll = now - age
        run.phase_started = now - (self.clock.time() - record.created_at)
        run.start_slack = record.updated_at - record.created_at
        return True

    def untrack(self, local_id: str) -> None:
        run = self._runs.pop(local_id, None)
        if run is not None:
            run.gen += 1
            self._left_phase(run)
            self._resolve(run)

    def poll_now(self, local_id: str) -> bool:
        """Poll this run as soon as a slot is free (a webhook said something happened)."""
        run = self._runs.get(local_id)
        if run is None:
            return False
        run.urgent = True
        if run.in_flight:
            run.again = True
        else:
            self._push(run, self.clock.monotonic())
        return True

    async def refresh(self, local_id: str) -> RunRecord | None:
        """Poll now and return the record after that poll (or as stored if not tracked)."""
        run = self._runs.get(local_id)
        if run is None or self._driver is None:  # not tracked, or nothing would poll it
            return self.store.get(local_id)
        fut: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
        run.waiters.append(fut)
        self.poll_now(local_id)
        return await fut

    # --- the scheduler -------------------------------------------------------------------

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

    def _push(self, run: _Run, due: float) -> None:
        run.gen += 1
        run.due = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, run.record.local_id, run.gen))
        if self._heap[0][1] == self._seq:  # the new entry is the earliest: re-plan the wait
            self._wake.set()

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
        while self._heap and self._heap[0][0] <= now + self.settings.slack:
            _due, _seq, local_id, gen = self._heap[0]
            run = self._runs.get(local_id)
            if run is None or run.gen != gen or run.in_flight:
                heapq.heappop(self._heap)
                continue
            crew = self._crews[run.record.crew]
            if crew.rejected:
                heapq.heappop(self._heap)
                self._park(crew, run)
                continue
            later = self._replan(run, crew, now)
            if later is not None:
                heapq.heappop(self._heap)
                self._push(run, later)
                continue
            if self._in_flight >= self.cap:
                break  # wait for a slot below
            wait = crew.rate.admit(now)
            heapq.heappop(self._heap)
            if wait > 0:
                # past the slack, or this loop (whose `now` is fixed) would spin on it
                self._push(run, now + max(wait, 2 * self.settings.slack + 1e-3))
                continue
            self._launch(run, crew, now)
        self._wake.clear()
        if (
            self._heap
            and self._in_flight >= self.cap
            and self._heap[0][0] <= now + self.settings.slack
        ):
            self._slot.clear()
            await self._slot.wait()  # a slot frees up: go round again
            return
        if self._heap:
            await sleep_or_wake(self.clock, self._heap[0][0] - now, self._wake)
        else:
            await self._wake.wait()

    def _observe_latency(self, latency: float, now: float) -> None:
        """Keep the lowest answer latency of the last window or two; set the cap from it."""
        s = self.settings
        current, last = self._lat_floor
        if self._lat_window_end is None:
            self._lat_window_end = now + s.latency_window
        elif now >= self._lat_window_end:
            current, last = float("inf"), current
            self._lat_window_end = now + s.latency_window
        current = min(current, latency)
        self._lat_floor = (current, last)
        floor = min(current, last)
        want = math.ceil(floor / s.request_cost) if s.request_cost > 0 else s.max_in_flight
        self.cap = max(1, min(s.max_in_flight, max(s.min_in_flight, want)))

    def _replan(self, run: _Run, crew: _Crew, now: float) -> float | None:
        """A later due time, if what the crew learnt since this poll was planned says the poll
        would only see the same phase again (its length became trusted; the runs ahead were
        all seen still in it at a greater age); None: poll now. Never past poll_max after the
        run's last poll."""
        if (
            run.urgent
            or run.last_poll is None
            or run.phase_started is None
            or run.record.state is RunState.AWAITING_INPUT
        ):
            return None
        expected = crew.phases.get(run.phase)
        if expected is not None and self._trusted(crew, run.phase, expected):
            target = self._aim(crew, run, expected)
        else:
            target = self._follow_until(crew, run)
        target = min(target, run.last_poll + crew.config.poll_max)
        return target if target > now + self.settings.slack else None

    def _launch(self, run: _Run, crew: _Crew, now: float) -> None:
        run.in_flight = True
        run.urgent = False
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        crew.requests += 1
        task = asyncio.create_task(self._poll(run, crew, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self, run: _Run, crew: _Crew, sent_at: float) -> None:
        delay: float | None
        try:
            delay = await self._poll_outcome(run, crew, sent_at)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Even a failing handler (say, the store refusing a write) must not leave the run
            # unscheduled: log it and try again later.
            log.exception("handling the status of %s failed", run.record.local_id)
            delay = crew.config.poll_max
        finally:
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

    async def _poll_outcome(self, run: _Run, crew: _Crew, sent_at: float) -> float | None:
        """One status request and what follows from it; returns the delay to the next."""
        kickoff_id = run.record.kickoff_id
        assert kickoff_id is not None
        delay: float | None = None
        try:
            try:
                status = await crew.client.status(kickoff_id)
            finally:
                self._in_flight -= 1
                self._slot.set()
            now = self.clock.monotonic()
            self._observe_latency(now - sent_at, now)
            delay = self._on_status(run, crew, status, sent_at, now)
            if self.on_status is not None:
                result = self.on_status(run.record, status)
                if asyncio.iscoroutine(result):
                    await result
        except AuthenticationError as exc:
            self._token_rejected(crew, exc)
        except NotFoundError:
            self._expired(run)
        except RateLimitedError as exc:
            now = self.clock.monotonic()
            rate = crew.rate.learn_429(now, exc.retry_after, sent_at=sent_at)
            log.info("crew %s asked to slow down; at most %.2f requests/s", crew.config.name, rate)
            delay = max(0.0, crew.rate.blocked_until - now)
        except _UNREACHABLE as exc:
            delay = self._on_failure(run, crew, exc)
        except (ProtocolError, AOPError) as exc:
            log.info("status of %s failed: %s", run.record.local_id, exc)
            delay = self._stretch(run, crew)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Never let one odd answer stop the monitor; the run stays tracked.
            log.exception("unexpected failure polling %s", run.record.local_id)
            delay = self._stretch(run, crew)
        return delay

    # --- outcomes of one poll ------------------------------------------------------------

    def _on_status(
        self, run: _Run, crew: _Crew, status: RunStatus, sent_at: float, now: float
    ) -> float | None:
        self._crew_ok(crew, now - sent_at, now)
        phase_before = run.phase
        key = _seen_key(status)
        if key == run.seen:
            # Most polls: nothing changed since the status the store last applied. The record
            # in memory is current (every write of ours goes through run.record).
            record, changed = run.record, False
        else:
            record, changed = self.store.record_status(
                run.record.local_id, status, self.clock.time(), seen_at=run.seen_at
            )
            run.seen = key
        previous, run.record = run.record, record
        run.seen_at = self.clock.time()
        if changed:
            old_phase = run.phase
            if self._learn_phase(run, crew, record, sent_at, now):
                self._phase_news(crew, old_phase, now)
            run.last_progress = now
            if record.stalled:
                record = self._flags(record, stalled=False, publish=False)
                run.record = record
            self.bus.publish(RunChanged(record, previous))
        if record.offline_since is not None and crew.offline_since is None:
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
            self._survived(crew, run, sent_at - run.phase_started - run.start_slack)
        return self._next_delay(run, crew, changed, now)

    def _survived(self, crew: _Crew, run: _Run, age: float) -> None:
        """`run` was certainly still in its phase at `age`: keep the longest such ages of the
        few runs furthest into the phase."""
        keep = self.settings.survivors
        if keep <= 0 or age <= 0:
            return
        ages = crew.survived.setdefault(run.phase, {})
        local_id = run.record.local_id
        if local_id in ages or len(ages) < keep:
            ages[local_id] = max(age, ages.get(local_id, 0.0))
            return
        youngest = min(ages, key=ages.__getitem__)
        if age > ages[youngest]:
            del ages[youngest]
            ages[local_id] = age

    def _left_phase(self, run: _Run) -> None:
        """Only runs still in a phase are runs ahead in it: history is what `phases` holds."""
        crew = self._crews.get(run.record.crew)
        ages = crew.survived.get(run.phase) if crew is not None else None
        if ages is not None:
            ages.pop(run.record.local_id, None)

    def _survived_age(self, crew: _Crew, phase: tuple[str, str]) -> float:
        """The age every one of `survivors` runs was seen still in `phase` at (0: unknown)."""
        ages = crew.survived.get(phase)
        if not ages or len(ages) < self.settings.survivors:
            return 0.0
        return min(ages.values())

    def _learn_phase(
        self, run: _Run, crew: _Crew, record: RunRecord, sent_at: float, now: float
    ) -> bool:
        """Date the change just seen and learn from it; True if the old phase just became
        known or trusted (the runs waiting in it may be due sooner)."""
        new_phase = _phase_of(record)
        if new_phase == run.phase:
            return False
        news = False
        self._left_phase(run)
        # The change came after the previous poll was sent (`lo`: it saw the old phase) and
        # before this one was answered. Without more to go on, take the middle, clamped to
        # one poll_min back: after a long quiet interval the middle is far too early, and a
        # consistent error cancels out of the phase lengths learnt below.
        lo, start = run.last_poll, run.phase_started
        at = sent_at if lo is None else max((lo + sent_at) / 2, sent_at - crew.config.poll_min)
        if start is not None and lo is not None and sent_at > start:
            s_lo, s_hi = start, start + run.start_slack
            took = at - start
            prior = crew.phases.get(run.phase)  # before this sample is learnt
            narrow = sent_at - lo <= crew.config.poll_min * (1 + self.settings.jitter)
            if not narrow and prior is not None and self._trusted(crew, run.phase, prior):
                # A trusted phase is polled once just after its expected end, so the bracket
                # is wide and its middle says little: move the estimate only as far as the
                # polls demand.
                took = min(max(prior, lo - start), sent_at - start)
            if took > 0:
                was = prior is not None and self._trusted(crew, run.phase, prior)
                self._learn_sample(crew, run.phase, took, lo - s_hi, now - s_lo)
                after = crew.phases[run.phase]
                news = prior is None or (not was and self._trusted(crew, run.phase, after))
                if news and (run.phase, prior is None) in crew.announced:
                    news = False  # once each: a crew whose trust flips must not rescan often
                elif news:
                    crew.announced.add((run.phase, prior is None))
            known = crew.bounds.get(run.phase)
            if known is not None and crew.spread.get(run.phase, (0, 0.0))[0] > 1:
                # The phase's length is pinned down: so is the change, within the polls.
                first, last = max(lo, s_lo + known[0]), min(now, s_hi + known[1])
                if first <= last:
                    run.phase, run.phase_started = new_phase, first
                    run.start_slack = last - first
                    return news
            if prior is not None and lo <= start + prior <= sent_at:
                at = start + prior  # the old phase's length agrees with the polls: date by it
        run.phase = new_phase
        run.phase_started = at if lo is not None else None
        run.start_slack = max(0.0, sent_at - at)  # it may have come as late as this poll
        return news

    def _phase_news(self, crew: _Crew, phase: tuple[str, str], now: float) -> None:
        """`phase` just became known or trusted: a run waiting in it on the runs ahead (or on
        its stretch) is due when the learnt length says, if that is sooner."""
        expected = crew.phases.get(phase)
        if expected is None:
            return
        cfg = crew.config
        trusted = self._trusted(crew, phase, expected)
        lead = _lead(cfg.poll_min, expected)
        for run in self._runs.values():
            if (
                run.phase != phase
                or run.in_flight
                or run.phase_started is None
                or run.record.crew != cfg.name
                or run.record.state is RunState.AWAITING_INPUT
            ):
                continue
            end = run.phase_started + expected
            due = max(self._aim(crew, run, expected) if trusted else end - lead, now)
            if due < run.due - self.settings.slack:
                self._push(run, due)

    def _learn_sample(
        self, crew: _Crew, phase: tuple[str, str], took: float, shortest: float, longest: float
    ) -> None:
        """One more run went through `phase` in `took` (best guess), certainly no shorter than
        `shortest` and no longer than `longest`. While every run's bounds overlap, the phase
        is as long as their intersection says (runs of a batch share their phases' lengths,
        and a thousand brackets a poll_min wide pin it down to a sliver); once they do not,
        lengths vary and an EWMA of the guesses, with the EWMA of its error, takes over."""
        n, dev = crew.spread.get(phase, (0, 0.0))
        known = crew.bounds.get(phase)
        if known is not None and max(known[0], shortest) <= min(known[1], longest):
            low, high = max(known[0], shortest), min(known[1], longest)
            crew.bounds[phase] = (low, high)
            crew.phases[phase] = (low + high) / 2
            crew.spread[phase] = (n + 1, (high - low) / 2)
            return
        crew.bounds[phase] = (shortest, longest)
        old = crew.phases.get(phase)
        a = self.settings.phase_alpha
        crew.phases[phase] = took if old is None else (1 - a) * old + a * took
        if old is not None:
            dev = abs(took - old) if n <= 1 else (1 - a) * dev + a * abs(took - old)
        crew.spread[phase] = (n + 1, dev)

    def _next_delay(self, run: _Run, crew: _Crew, changed: bool, now: float) -> float:
        cfg = crew.config
        if changed:
            run.interval = cfg.poll_min
        else:
            run.interval = min(run.interval * self.settings.stretch, cfg.poll_max)
        delay = run.interval
        expected = crew.phases.get(run.phase)
        if (
            expected is not None
            and run.phase_started is not None
            and run.record.state is not RunState.AWAITING_INPUT
        ):
            end = run.phase_started + expected
            if self._trusted(crew, run.phase, expected):
                # A well-known end: one poll just after it sees the change (a poll before it
                # would only cost a request and a poll_min wait). Not jittered: the aims are
                # spread by the runs' own starts. poll_max still bounds how late a
                # surprisingly early change is seen.
                aim = self._aim(crew, run, expected)
                if now < aim:
                    return min(cfg.poll_max, aim - now)
            else:
                lead = _lead(cfg.poll_min, expected)  # learning: bracket the end
                if now < end - lead:
                    delay = min(delay, max(0.05, end - lead - now))
                    return self._follow(run, crew, now, self._jittered(delay))
            # Past when it should have changed: look often, then less so the further past
            # the end it gets (an estimate off by 30 s must not cost 30 polls at poll_min),
            # stretching from the expected end rather than from the phase's start.
            late = max(0.0, now - end)
            delay = min(delay, max(cfg.poll_min, (self.settings.stretch - 1) * late))
            return self._jittered(delay)
        return self._follow(run, crew, now, self._jittered(delay))

    def _follow(self, run: _Run, crew: _Crew, now: float, delay: float) -> float:
        """Not before the crew's runs ahead in this phase say a poll could see something new."""
        if run.phase_started is None or run.record.state is RunState.AWAITING_INPUT:
            return delay
        return max(delay, min(crew.config.poll_max, self._follow_until(crew, run) - now))

    def _follow_until(self, crew: _Crew, run: _Run) -> float:
        """The runs ahead were all seen still in this phase at an age: take that as this run's
        own look at that age, and stretch from it as after any quiet poll."""
        assert run.phase_started is not None
        return run.phase_started + self.settings.stretch * self._survived_age(crew, run.phase)

    def _aim(self, crew: _Crew, run: _Run, expected: float) -> float:
        """When to look at a run in a trusted phase: after its expected end by the latest the
        phase may have started plus its usual error, so one poll sees the change; at least a
        sliver of poll_min (timers and the server's clock are not exact), at most poll_min
        (a poll that misses is followed by one every poll_min)."""
        assert run.phase_started is not None
        poll_min = crew.config.poll_min
        _n, dev = crew.spread.get(run.phase, (0, 0.0))
        margin = min(run.start_slack + dev + self.settings.aim_floor * poll_min, poll_min)
        return run.phase_started + expected + margin

    def _jittered(self, delay: float) -> float:
        return delay * (1 + self.rng.uniform(-self.settings.jitter, self.settings.jitter))

    def _trusted(self, crew: _Crew, phase: tuple[str, str], expected: float) -> bool:
        n, dev = crew.spread.get(phase, (0, 0.0))
        s = self.settings
        return n >= s.trust_samples and dev <= s.trust_spread * expected

    def _stretch(self, run: _Run, crew: _Crew) -> float:
        run.interval = min(run.interval * self.settings.stretch, crew.config.poll_max)
        return self._jittered(run.interval)

    def stall_after(self, crew: str) -> float:
        s = self.settings
        durations = self._crews[crew].durations
        if len(durations) < s.stall_min_samples:
            return s.stall_default
        return max(s.stall_floor, s.stall_factor * statistics.median(durations))

    def _check_stall(self, run: _Run, crew: _Crew, now: float) -> None:
        record = run.record
        if record.stalled or record.state is RunState.AWAITING_INPUT:
            return
        if now - run.last_progress > self.stall_after(crew.config.name):
            run.record = self._flags(record, stalled=True)

    def _outcome(self, crew: _Crew, ok: bool) -> int:
        """Remember one request's outcome; how many of the recent ones failed."""
        crew.recent.append(ok)
        while len(crew.recent) > max(1, self.settings.flaky_window):
            crew.recent.popleft()
        return sum(1 for good in crew.recent if not good)

    def _crew_ok(self, crew: _Crew, latency: float, now: float) -> None:
        crew.failures = 0
        crew.last_ok = now
        crew.latency = latency if crew.latency is None else 0.8 * crew.latency + 0.2 * latency
        if crew.offline_since is not None:
            crew.recent.clear()  # an outage that ended is not flakiness
        failed = self._outcome(crew, True)
        if crew.offline_since is not None:
            crew.offline_since = None
            for other in list(self._runs.values()):
                if other.record.crew == crew.config.name and other.record.offline_since:
                    other.record = self._flags(other.record, offline_since=None)
        if crew.latency > self.settings.slow_after:
            self._set_health(crew, CrewHealth.SLOW, slow_detail(crew.latency))
        elif failed >= self.settings.flaky_after:
            if not crew.detail.startswith("flaky:"):  # still flaky: keep the words it has
                self._set_health(crew, CrewHealth.SLOW, flaky_detail("failed requests"))
        else:
            self._set_health(crew, CrewHealth.OK, "ok")

    def _on_failure(self, run: _Run, crew: _Crew, exc: AOPError) -> float:
        now = self.clock.monotonic()
        held = isinstance(exc, CircuitOpenError)  # not sent: no evidence either way
        failed = 0
        if not held:
            crew.failures += 1
            failed = self._outcome(crew, False)
            if crew.failures == 1 and crew.last_ok == 0.0:
                crew.last_ok = now  # never reached yet: count the silence from the first failure
        unreachable = (
            not held
            and crew.failures >= self.settings.offline_after_failures
            and now - crew.last_ok >= self.settings.offline_after_seconds
        )
        if crew.offline_since is None and not unreachable:
            if isinstance(exc, CircuitOpenError):
                self._set_health(crew, CrewHealth.SLOW, held_detail(crew.failures))
            elif failed >= self.settings.flaky_after or crew.failures > 1:
                self._set_health(crew, CrewHealth.SLOW, flaky_detail(exc.kind))
        if unreachable and crew.offline_since is None:
            crew.offline_since = self.clock.time()
            self._set_health(
                crew,
                CrewHealth.OFFLINE,
                offline_detail(crew.offline_since, exc.kind),
                since=crew.offline_since,
            )
            for other in list(self._runs.values()):
                if other.record.crew == crew.config.name and other.record.offline_since is None:
                    other.record = self._flags(other.record, offline_since=crew.offline_since)
        elif crew.offline_since is not None and run.record.offline_since is None:
            run.record = self._flags(run.record, offline_since=crew.offline_since)
        if isinstance(exc, CircuitOpenError):
            return max(crew.config.poll_min, exc.retry_in)
        return self._stretch(run, crew)

    def _token_rejected(self, crew: _Crew, exc: AOPError | None = None) -> None:
        if not crew.rejected:
            crew.rejected = True
            self._set_health(crew, CrewHealth.TOKEN_REJECTED, NOTE_TOKEN)
        for run in [r for r in self._runs.values() if r.record.crew == crew.config.name]:
            self._park(crew, run)

    def _park(self, crew: _Crew, run: _Run) -> None:
        if run.record.note != NOTE_TOKEN:
            run.record = self._flags(run.record, note=NOTE_TOKEN)
        crew.parked.add(run.record.local_id)
        self.untrack(run.record.local_id)

    def _expired(self, run: _Run) -> None:
        run.record = self._flags(run.record, note=NOTE_EXPIRED)
        self.untrack(run.record.local_id)

    # --- helpers -------------------------------------------------------------------------

    def _flags(self, record: RunRecord, *, publish: bool = True, **flags: Any) -> RunRecord:
        updated: RunRecord = self.store.set_flags(record.local_id, **flags)
        if publish:
            self.bus.publish(RunChanged(updated, record))
        return updated

    def _set_health(
        self, crew: _Crew, health: CrewHealth, detail: str, since: float | None = None
    ) -> None:
        if crew.health is health and crew.detail == detail:
            return
        crew.health, crew.detail = health, detail
        crew.since = since if since is not None else self.clock.time()
        self.bus.publish(CrewHealthChanged(crew.config.name, health, detail, crew.since))

    def _resolve(self, run: _Run) -> None:
        waiters, run.waiters = run.waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(run.record)


__all__ = ["NOTE_EXPIRED", "NOTE_TOKEN", "Monitor", "MonitorSettings", "StatusClient"]
