"""A wake-up that sends polls anyway takes along the loose polls due soon
(`MonitorSettings.coalesce`): polls of runs stretching in a phase nothing is known of, or
awaiting a human, go a little early instead of each waking the engine, opening a transaction
and taking a turn of the loop alone. Only loose polls move, and only earlier."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from dataclasses import replace
from pathlib import Path

from crewdash.core.monitor.phases import PhaseModel
from crewdash.core.monitor.plan import Planner, Timing
from crewdash.core.monitor.settings import MonitorSettings
from crewdash.core.runs.ratelimit import CrewRate, TokenBucket
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, accepted_run, crew_config, status
from engine.test_monitor import make
from engine.test_monitor_adopt import seen_running

TASK = ("running", "a")
CFG = crew_config(poll_min=1.0, poll_max=30.0)
S = MonitorSettings(jitter=0.0, stretch=1.5, survivors=2, coalesce=0.5, coalesce_share=0.1)


def joins(t: Timing, model: PhaseModel, now: float, due: float, *, waiting: bool = False) -> bool:
    return Planner(S, random.Random(1)).may_join(t, model, CFG, now, due, waiting)


def test_a_stretching_poll_may_go_early_by_a_tenth_of_its_wait_at_most_half_a_second() -> None:
    model = PhaseModel(S)
    model.entered(TASK, "r0", 0.0)  # the look-out is another run; this one stretches
    t = Timing(interval=4.0, key="r1", phase=TASK, phase_started=100.0, last_poll=100.0)
    assert joins(t, model, now=103.65, due=104.0)  # 0.35 s early of a 4-s wait
    assert not joins(t, model, now=103.5, due=104.0)  # 0.5 s: more than a tenth
    t.last_poll = 70.0
    assert joins(t, model, now=99.5, due=100.0)  # a 30-s wait: half a second ...
    assert not joins(t, model, now=99.4, due=100.0)  # ... and no more
    assert joins(t, model, now=99.5, due=100.0, waiting=True)  # awaiting a human: loose too


def test_an_aimed_poll_the_look_out_an_urgent_one_or_a_first_look_never_moves() -> None:
    model = PhaseModel(S)
    for _ in range(3):
        model.learn(TASK, 10.0, 9.9, 10.1)
    assert model.trusted(TASK)
    aimed = Timing(interval=4.0, key="r1", phase=TASK, phase_started=100.0, last_poll=101.0)
    assert not joins(aimed, model, now=109.9, due=110.15)  # aimed just after the end
    fresh = PhaseModel(S)
    look_out = Timing(interval=2.0, key="r0", phase=TASK, phase_started=100.0, last_poll=100.0)
    fresh.entered(TASK, "r0", 0.0)
    assert not joins(look_out, fresh, now=101.9, due=102.0)
    urgent = Timing(interval=4.0, key="r1", phase=TASK, last_poll=100.0, urgent=True)
    assert not joins(urgent, fresh, now=103.9, due=104.0)
    first = Timing(interval=1.0, key="r2", phase=TASK)
    assert not joins(first, fresh, now=100.9, due=101.0)
    off = Planner(replace(S, coalesce=0.0), random.Random(1))
    t = Timing(interval=4.0, key="r1", phase=TASK, phase_started=100.0, last_poll=100.0)
    assert not off.may_join(t, fresh, CFG, 103.9, 104.0, False)


async def send_times(path: Path, coalesce: float) -> tuple[list[list[float]], set[float]]:
    """60 runs kicked off 0.1 s apart, quiet for 2 minutes (jittered, nothing learnt): each
    run's poll times, and every time polls went out."""
    with contextlib.closing(RunStore.open(path)) as store:
        return await _send_times(store, coalesce)


async def _send_times(store: RunStore, coalesce: float) -> tuple[list[list[float]], set[float]]:
    clock = ManualClock()
    monitor, client, _ = make(
        store,
        clock,
        lambda _k, _n: status(),
        rng=random.Random(7),
        jitter=0.1,
        coalesce=coalesce,
        explore_max=0.0,
    )
    runs = []
    await monitor.start()
    for _ in range(60):
        runs.append(accepted_run(store, at=clock.time()))
        monitor.track(runs[-1])
        await clock.advance(0.1)
    await clock.advance(120)
    await monitor.stop()
    polls = [client.calls_for(run.kickoff_id or "") for run in runs]
    return polls, {t for times in polls for t in times}


async def test_quiet_runs_polls_share_wake_ups_and_none_goes_later(tmp_path: Path) -> None:
    alone, alone_at = await send_times(tmp_path / "alone.sqlite3", 0.0)
    along, along_at = await send_times(tmp_path / "along.sqlite3", 0.5)
    # far fewer moments of sending (each a wake-up, a transaction, a turn of the loop) ...
    assert len(along_at) <= 0.6 * len(alone_at)  # 158 against 328
    # ... for a few more polls (each went at most a tenth of its wait early; 345 against 340)
    assert sum(map(len, alone)) <= sum(map(len, along)) <= 1.1 * sum(map(len, alone))
    # ... and no run waited longer for a look than poll_max, nor longer than alone
    for times_along, times_alone in zip(along, alone, strict=True):
        gaps_along = [b - a for a, b in itertools.pairwise(times_along)]
        gaps_alone = [b - a for a, b in itertools.pairwise(times_alone)]
        assert max(gaps_along) <= max(gaps_alone) + 1e-6 <= 30.0 + 2e-6


async def polls_at_a_wake_up(store: RunStore, rate: CrewRate | None = None) -> tuple[int, int]:
    """8 runs quiet for 10 minutes, adopted 10 ms apart: looked at once each, and next 30 s
    later, 10 ms apart. With the answers held from then on: how many polls went out when the
    first of those fell due, and how many were in flight once the fourth fell due too."""
    clock = ManualClock()
    monitor, client, _ = make(
        store, clock, lambda _k, _n: status(), survivors=0, explore_max=0.0, coalesce=0.5
    )
    monitor.add_crew(crew_config(poll_min=1.0, poll_max=30.0), client, rate=rate)
    t0 = clock.now
    await monitor.start()
    for _ in range(8):
        monitor.track(seen_running(store, clock, 600))
        await clock.advance(0.01)
    assert len(client.calls) == 8
    client.gate = asyncio.Event()
    await clock.advance(t0 + 30.001 - clock.now)
    assert monitor.cap == 4
    went = sum(1 for t, _ in client.calls[8:] if t == t0 + 30.0)
    await clock.advance(0.03)
    in_flight = client.in_flight
    client.gate.set()
    await monitor.stop()
    return went, in_flight


async def test_polls_taken_along_leave_a_slot_for_a_poll_due_on_time(store: RunStore) -> None:
    went, in_flight = await polls_at_a_wake_up(store)
    # the first went, and two of those due in the next 20 ms with it; one slot of 4 stayed
    # free for the next poll due on time
    assert (went, in_flight) == (3, 4)


async def test_a_crew_under_a_learnt_rate_limit_takes_no_poll_along(store: RunStore) -> None:
    rate = CrewRate()
    rate.bucket = TokenBucket(100.0, capacity=100.0, now=0.0)  # learnt: every request counts
    rate.bucket.tokens = 100.0
    went, in_flight = await polls_at_a_wake_up(store, rate)
    assert (went, in_flight) == (1, 4)  # each at its own time
