"""The monitor's records of its crews and runs, and everything it does to them that needs no
request: adding crews, tracking and untracking runs, parking a crew's runs while its token is
rejected, flags, health events and the public read-outs. `poller.Monitor` adds the driver
that sends the requests.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.config.model import CrewConfig
from crewdash.core.events import EventBus
from crewdash.core.models import (
    CrewHealth,
    CrewHealthChanged,
    KickoffPhase,
    RunChanged,
    RunRecord,
    StateChange,
)
from crewdash.core.monitor.health import NOTE_TOKEN, HealthState
from crewdash.core.monitor.history import samples_by_phase
from crewdash.core.monitor.phases import PhaseModel, phase_of
from crewdash.core.monitor.plan import Planner, Timing
from crewdash.core.monitor.ports import MonitorStore, StatusClient
from crewdash.core.monitor.schedule import DueHeap, InFlightCap
from crewdash.core.monitor.settings import MonitorSettings
from crewdash.core.monitor.stalls import newly_stalled, stall_after, typical_duration
from crewdash.core.monitor.stats import CrewStats, RequestLog, crew_stats
from crewdash.core.runs.ratelimit import CrewRate
from crewdash.core.timing import Clock, LoopClock

log = logging.getLogger(__name__)

NOTE_EXPIRED = "expired or unknown on the server (404): no longer tracked"

_DURATIONS_KEPT = 50  # completed runs whose durations say how long a crew's runs take


@dataclass(slots=True, kw_only=True)
class TrackedRun(Timing):
    """One run being polled: its timing (see `plan.Timing`) and the poller's bookkeeping."""

    record: RunRecord
    gen: int = 0  # bumped on every re-plan: older heap entries are stale
    in_flight: bool = False
    again: bool = False  # poll once more right after the one in flight
    last_progress: float = 0.0  # monotonic time of the last observed change
    seen: tuple[Any, ...] | None = None  # the last status the store has applied (see seen_key)
    seen_at: float | None = None  # wall time of the last answer that found the run unfinished
    waiters: list[asyncio.Future[RunRecord]] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        """Awaiting a human: no phase end to aim at, never stalled."""
        return self.record.state is RunState.AWAITING_INPUT


@dataclass(slots=True)
class TrackedCrew:
    """One configured crew: its client, health, learnt phases, pacing and figures."""

    config: CrewConfig
    client: StatusClient
    health: HealthState
    phases: PhaseModel
    rate: CrewRate = field(default_factory=CrewRate)
    parked: set[str] = field(default_factory=set)  # runs waiting for a usable token
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=_DURATIONS_KEPT))
    log: RequestLog = field(default_factory=RequestLog)
    requests: int = 0


def seen_key(status: RunStatus) -> tuple[Any, ...]:
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


class Tracking:
    """The records and the request-free half of the monitor (see the module docstring)."""

    def __init__(
        self,
        store: MonitorStore,
        bus: EventBus,
        *,
        clock: Clock | None = None,
        settings: MonitorSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock: Clock = clock or LoopClock()
        self._settings = settings or MonitorSettings()
        self._planner = Planner(self._settings, rng or random.Random())
        self._cap = InFlightCap(self._settings)
        self._crews: dict[str, TrackedCrew] = {}
        self._runs: dict[str, TrackedRun] = {}
        self._heap = DueHeap()
        self._wake = asyncio.Event()  # set when the earliest due time moved earlier

    @property
    def settings(self) -> MonitorSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: MonitorSettings) -> None:
        """New settings reach every part (a test tunes them after the engine built us)."""
        self._settings = settings
        self._planner.settings = settings
        self._cap.settings = settings
        for crew in self._crews.values():
            crew.health.settings = settings
            crew.phases.settings = settings

    @property
    def rng(self) -> random.Random:
        """Jitters the intervals (seed it for a repeatable test)."""
        return self._planner.rng

    @rng.setter
    def rng(self, rng: random.Random) -> None:
        self._planner.rng = rng

    @property
    def cap(self) -> int:
        """The cap on status requests in flight now."""
        return self._cap.cap

    # --- crews ---------------------------------------------------------------------------

    def add_crew(
        self, config: CrewConfig, client: StatusClient, *, rate: CrewRate | None = None
    ) -> None:
        """`rate`: the crew's pacer's, shared with every other request to the crew."""
        health = HealthState(config.name, self._settings)
        phases = PhaseModel(self._settings)
        self._crews[config.name] = TrackedCrew(config, client, health, phases, rate or CrewRate())

    def set_client(self, crew: str, client: StatusClient) -> None:
        """A new client for a crew (say, a fixed token): polling of parked runs resumes."""
        state = self._crews[crew]
        state.client = client
        if state.health.rejected:
            self._unpark(state, CrewHealth.UNKNOWN, "token replaced; checking")

    def token_rejected(self, crew: str) -> None:
        """Another request of the crew (inputs, kickoff, resume, stop, health) got a 401."""
        state = self._crews.get(crew)
        if state is not None:
            self._token_rejected(state)

    def token_accepted(self, crew: str) -> None:
        """Another request of the crew succeeded with its token: a rejection is over."""
        state = self._crews.get(crew)
        if state is not None and state.health.rejected:
            self._unpark(state, CrewHealth.OK, "ok")

    def is_rejected(self, crew: str) -> bool:
        state = self._crews.get(crew)
        return state is not None and state.health.rejected

    def has_crew(self, crew: str) -> bool:
        return crew in self._crews

    def crew_health(self, crew: str) -> tuple[CrewHealth, str]:
        state = self._crews.get(crew)
        if state is None:
            return (CrewHealth.UNKNOWN, "not configured")
        return (state.health.health, state.health.detail)

    def learnt_rate(self, crew: str) -> float | None:
        return self._crews[crew].rate.learnt_rate

    def requests_sent(self, crew: str | None = None) -> int:
        if crew is not None:
            return self._crews[crew].requests
        return sum(c.requests for c in self._crews.values())

    def typical_duration(self, crew: str) -> float | None:
        return typical_duration(self._crews[crew].durations)

    def learn_duration(self, crew: str, seconds: float) -> None:
        """A completed run's duration (also fed from the store's history on start)."""
        if crew in self._crews and seconds > 0:
            self._crews[crew].durations.append(seconds)

    def learn_history(self, crew: str, runs: Iterable[tuple[float, Sequence[StateChange]]]) -> None:
        """Earlier runs of the crew (creation time, state changes: the store's phase_history):
        their phase lengths are known from a new run's first poll."""
        state = self._crews.get(crew)
        if state is not None:
            for phase, samples in samples_by_phase(runs).items():
                state.phases.seed(phase, samples)

    def stall_after(self, crew: str) -> float:
        return stall_after(self._crews[crew].durations, self._settings)

    def crew_stats(self, crew: str) -> CrewStats:
        """The crew's run durations, request latency and error rate (for the trends screen)."""
        state = self._crews[crew]
        return crew_stats(
            crew,
            list(state.durations),
            state.log,
            self.clock.monotonic(),
            requests_total=state.requests,
        )

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
        if crew.health.rejected:
            crew.parked.add(record.local_id)
            return
        if record.local_id in self._runs:
            return
        now = self.clock.monotonic()
        interval = self._resumed_interval(record, crew.config)
        run = TrackedRun(record=record, key=record.local_id, interval=interval, last_progress=now)
        run.phase = phase_of(record)
        self._runs[record.local_id] = run
        crew.phases.entered(run.phase, record.local_id, record.created_at)
        if delay <= 0 and self._just_accepted(run, crew, now):
            # The kickoff's answer said "queued" a moment ago: polling at once would only
            # say it again. Schedule it as after any observed change.
            delay = self._planner.next_delay(
                run, crew.phases, crew.config, now, changed=True, waiting=run.waiting
            )
        self._push(run, now + max(0.0, delay))

    def _resumed_interval(self, record: RunRecord, cfg: CrewConfig) -> float:
        """The interval a run starts with. One adopted from the store (a dashboard restarted,
        `watch` after `batch`) has shown the same status since `updated_at` (or later: other
        writes move it too): watched all along, its interval would have stretched to about
        (stretch - 1) x that quiet time, so that is where its first quiet poll puts it, and
        not back at poll_min (100 runs quiet for 10 minutes took 10 polls a run in the first
        two minutes after a restart, now 5). A change seen by that poll resets it to poll_min
        as ever."""
        stretch = self._settings.stretch
        quiet = self.clock.time() - record.updated_at
        if record.updated_at <= 0 or quiet <= 0 or stretch <= 1:
            return cfg.poll_min
        return min(cfg.poll_max, max(cfg.poll_min, (stretch - 1) / stretch * quiet))

    def _just_accepted(self, run: TrackedRun, crew: TrackedCrew, now: float) -> bool:
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

    def _push(self, run: TrackedRun, due: float) -> None:
        run.gen += 1
        run.due = due
        if self._heap.push(run.record.local_id, run.gen, due):
            self._wake.set()  # the new entry is the earliest: re-plan the wait

    def _left_phase(self, run: TrackedRun) -> None:
        crew = self._crews.get(run.record.crew)
        if crew is not None:
            crew.phases.left(run.phase, run.record.local_id)

    def _check_stall(self, run: TrackedRun, crew: TrackedCrew, now: float) -> None:
        after = self.stall_after(crew.config.name)
        if newly_stalled(run.record, now - run.last_progress, after):
            run.record = self._flags(run.record, stalled=True)

    # --- a crew's token ------------------------------------------------------------------

    def _token_rejected(self, crew: TrackedCrew) -> None:
        self._publish(crew.health.reject(self.clock.time()))
        for run in [r for r in self._runs.values() if r.record.crew == crew.config.name]:
            self._park(crew, run)

    def _park(self, crew: TrackedCrew, run: TrackedRun) -> None:
        if run.record.note != NOTE_TOKEN:
            run.record = self._flags(run.record, note=NOTE_TOKEN)
        crew.parked.add(run.record.local_id)
        self.untrack(run.record.local_id)

    def _unpark(self, state: TrackedCrew, health: CrewHealth, detail: str) -> None:
        self._publish(state.health.unreject(health, detail, self.clock.time()))
        for local_id in sorted(state.parked):
            record = self.store.get(local_id)
            if record is not None and not record.is_final:
                if record.note == NOTE_TOKEN:
                    record = self._flags(record, note=None)
                self.track(record)
        state.parked.clear()

    def _expired(self, run: TrackedRun) -> None:
        run.record = self._flags(run.record, note=NOTE_EXPIRED)
        self.untrack(run.record.local_id)

    # --- helpers -------------------------------------------------------------------------

    def _flags(self, record: RunRecord, *, publish: bool = True, **flags: Any) -> RunRecord:
        updated = self.store.set_flags(record.local_id, **flags)
        if publish:
            self.bus.publish(RunChanged(updated, record))
        return updated

    def _flag_offline(self, crew: TrackedCrew, since: float | None) -> None:
        """Every run of `crew` shows the outage (`since`) or no longer does (None)."""
        for other in list(self._runs.values()):
            if other.record.crew == crew.config.name and (
                (other.record.offline_since is None) != (since is None)
            ):
                other.record = self._flags(other.record, offline_since=since)

    def _publish(self, event: CrewHealthChanged | None) -> None:
        if event is not None:
            self.bus.publish(event)

    def _resolve(self, run: TrackedRun) -> None:
        waiters, run.waiters = run.waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(run.record)


__all__ = ["NOTE_EXPIRED", "TrackedCrew", "TrackedRun", "Tracking", "seen_key"]
