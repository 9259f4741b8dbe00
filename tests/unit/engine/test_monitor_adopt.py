"""A run the monitor adopts from the store (an earlier process kicked it off and watched it: a
dashboard restarted, `watch` after `batch`) resumes the stretch its quiet time has earned,
instead of starting again at poll_min as if its status had just changed."""

from __future__ import annotations

import itertools

from crewdash.aop.models import RunStatus
from crewdash.core.records import RunRecord
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, accepted_run, status
from engine.test_monitor import make


def seen_running(store: RunStore, clock: ManualClock, ago: float) -> RunRecord:
    """A run an earlier process saw start its first task `ago` seconds before now."""
    run = accepted_run(store, at=clock.time() - ago - 1)
    record, changed = store.record_status(run.local_id, status(), clock.time() - ago)
    assert changed
    return record


async def gaps_after_adopting(
    store: RunStore, clock: ManualClock, ago: float, answer: RunStatus, seconds: float
) -> list[float]:
    # explore_max off: a lone run in a phase nothing is known of is its own look-out
    monitor, client, _ = make(store, clock, lambda _k, _n: answer, explore_max=0.0)
    run = seen_running(store, clock, ago)
    t0 = clock.now
    monitor.track(run)
    await monitor.start()
    await clock.advance(seconds)
    await monitor.stop()
    times = client.calls_for(run.kickoff_id or "")
    assert times[0] == t0  # adopted: looked at once, whatever the store says
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


async def test_a_run_quiet_for_ten_minutes_is_next_looked_at_after_poll_max(store) -> None:
    clock = ManualClock()
    gaps = await gaps_after_adopting(store, clock, 600, status(), 100)
    # watched all along, its interval would have stretched to poll_max long ago
    assert gaps == [30.0, 30.0, 30.0]


async def test_a_quiet_run_resumes_the_stretch_its_quiet_time_earned(store) -> None:
    clock = ManualClock()
    gaps = await gaps_after_adopting(store, clock, 10, status(), 40)
    # (stretch - 1) x 10 s of quiet, then 1.5x per quiet poll as ever
    assert gaps[:3] == [5.0, 7.5, 11.25]


async def test_a_run_that_changed_a_moment_ago_starts_at_poll_min(store) -> None:
    clock = ManualClock()
    gaps = await gaps_after_adopting(store, clock, 0.5, status(), 10)
    assert gaps[:3] == [1.5, 2.25, 3.375]  # as a run tracked since its kickoff


async def test_a_change_the_first_look_sees_resets_the_interval_to_poll_min(store) -> None:
    clock = ManualClock()
    moved_on = status(task="write", done=1)
    gaps = await gaps_after_adopting(store, clock, 600, moved_on, 10)
    assert gaps[:2] == [1.0, 1.5]


async def test_a_restart_with_a_hundred_quiet_runs_costs_half_the_polls(store) -> None:
    clock = ManualClock()
    monitor, client, _ = make(store, clock, lambda _k, _n: status(), jitter=0.1)
    runs = [seen_running(store, clock, 600) for _ in range(100)]
    for run in runs:
        monitor.track(run)
    await monitor.start()
    for _ in range(480):  # small steps: each lets the polls due in it all run
        await clock.advance(0.25)
    await monitor.stop()
    polls = [len(client.calls_for(run.kickoff_id or "")) for run in runs]
    # each: at once, then ~30 s apart (their look-out of the unknown phase: every 2 s);
    # stretching from poll_min again it took 10 polls a run (1,051 in all: measured)
    assert sorted(polls)[-2] <= 5
    assert sum(polls) <= 100 * 5 + 60  # 499 measured
