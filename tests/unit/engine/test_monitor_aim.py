"""How the monitor spends its polls: a fresh run's kickoff answer counts as its first look, a
trusted phase is polled once just after its expected end, and the cap on requests in flight
follows the server's latency."""

from __future__ import annotations

import asyncio

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, ScriptedClient, accepted_run, completed, crew_config, status

QUEUE, TASK = 2.0, 20.0  # every run: queued 2 s, then tasks a and b of 20 s each


def make(store: RunStore, clock: ManualClock, answer, **settings) -> tuple[Monitor, ScriptedClient]:
    settings.setdefault("jitter", 0.0)
    monitor = Monitor(store, EventBus(), clock=clock, settings=MonitorSettings(**settings))
    client = ScriptedClient(clock, answer)
    monitor.add_crew(crew_config(poll_min=1.0, poll_max=30.0), client)
    return monitor, client


def fleet(clock: ManualClock, starts: dict[str, float]):
    def answer(kid: str, now: float) -> RunStatus:
        t = now - starts[kid]
        if t < QUEUE:
            return status(RunState.PENDING, task=None, raw="queued")
        if t < QUEUE + TASK:
            return status(task="a", done=0, total=2)
        if t < QUEUE + 2 * TASK:
            return status(task="b", done=1, total=2)
        return completed()

    return answer


async def kick(store: RunStore, clock: ManualClock, monitor: Monitor, starts: dict[str, float]):
    """A run as the engine's kickoff leaves it: accepted now, tracked at once."""
    run = accepted_run(store, at=clock.time())
    starts[run.kickoff_id] = clock.now
    monitor.track(run)
    return run


async def test_a_run_just_kicked_off_is_not_polled_at_once(store) -> None:
    clock = ManualClock()
    starts: dict[str, float] = {}
    monitor, client = make(store, clock, fleet(clock, starts))
    await monitor.start()
    fresh = await kick(store, clock, monitor, starts)
    old = accepted_run(store, at=clock.time() - 3600)  # resumed from the store: look now
    starts[old.kickoff_id] = clock.now - 3600
    monitor.track(old)
    await clock.advance(0.5)
    assert client.calls_for(old.kickoff_id) == [clock.now - 0.5]
    assert client.calls_for(fresh.kickoff_id) == []  # its kickoff answer said "queued"
    await clock.advance(1.0)
    assert client.calls_for(fresh.kickoff_id) == [clock.now - 0.5]  # after poll_min
    await monitor.stop()


async def test_a_trusted_phase_is_seen_by_one_poll_just_after_its_end(store) -> None:
    """Runs one after another: once the phases are trusted, each change costs one poll,
    seen well within poll_min of it (before: a poll before the end, then one poll_min later),
    and the queue phase of a fresh run is aimed at too."""
    clock = ManualClock()
    starts: dict[str, float] = {}
    monitor, client = make(store, clock, fleet(clock, starts), jitter=0.1)
    monitor.rng.seed(3)  # jittered polls bracket each change differently: the lengths narrow
    await monitor.start()
    for _ in range(8):
        run = await kick(store, clock, monitor, starts)
        await clock.run_until(lambda r=run: store.get(r.local_id).state.is_final, 120, step=0.25)
    await monitor.stop()
    calls = [t - starts[run.kickoff_id] for t in client.calls_for(run.kickoff_id)]
    changes = [QUEUE, QUEUE + TASK, QUEUE + 2 * TASK]
    assert len(calls) == len(changes)  # one poll per change, none in between
    for polled, changed in zip(calls, changes, strict=True):
        assert changed <= polled < changed + 1.0  # poll_min: the old follow-up came then


async def test_an_earlier_end_than_trusted_is_still_seen_within_poll_max(store) -> None:
    clock = ManualClock()
    starts: dict[str, float] = {}
    short: set[str] = set()
    normal = fleet(clock, starts)

    def answer(kid: str, now: float) -> RunStatus:
        if kid in short and now - starts[kid] >= QUEUE + 5:
            return completed()
        return normal(kid, now)

    monitor, _client = make(store, clock, answer)
    await monitor.start()
    for _ in range(5):
        run = await kick(store, clock, monitor, starts)
        await clock.run_until(lambda r=run: store.get(r.local_id).state.is_final, 120, step=0.25)
    run = accepted_run(store, at=clock.time())
    short.add(run.kickoff_id)
    starts[run.kickoff_id] = clock.now
    monitor.track(run)
    await clock.run_until(lambda: store.get(run.local_id).state.is_final, 120, step=0.25)
    await monitor.stop()
    seen = store.get(run.local_id).finished_at - clock.wall_offset - starts[run.kickoff_id]
    assert QUEUE + 5 <= seen <= QUEUE + 5 + 30.0 + 0.5  # late, but never more than poll_max


class LaggingClient(ScriptedClient):
    """Answers after `latency` seconds of the manual clock."""

    def __init__(self, clock: ManualClock, answer, latency: float) -> None:
        super().__init__(clock, answer)
        self.latency = latency

    async def status(self, kickoff_id: str) -> RunStatus:
        self.calls.append((self.clock.now, kickoff_id))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.clock.sleep(self.latency)
            return self.answer(kickoff_id, self.clock.now)
        finally:
            self.in_flight -= 1


async def _peak_in_flight(store: RunStore, latency: float) -> tuple[int, int]:
    clock = ManualClock()
    settings = MonitorSettings(jitter=0.0, min_in_flight=4, max_in_flight=16, request_cost=0.01)
    monitor = Monitor(store, EventBus(), clock=clock, settings=settings)
    client = LaggingClient(clock, lambda k, n: status(done=0), latency)
    monitor.add_crew(crew_config(poll_min=1.0, poll_max=2.0), client)
    for _ in range(60):
        monitor.track(accepted_run(store))
    await monitor.start()
    for _ in range(400):
        await clock.advance(0.01)
    await monitor.stop()
    return client.peak, monitor.cap


async def test_requests_in_flight_follow_the_latency_within_the_bounds(store) -> None:
    # a fast server: a few in flight keep up, more would only cost connections
    assert await _peak_in_flight(store, 0.0) == (4, 4)
    # 75 ms answers at 10 ms of work each: eight in flight hide the latency
    peak, cap = await _peak_in_flight(store, 0.075)
    assert cap == 8 and peak == 8
    # a slow server: the configured maximum, never more
    assert await _peak_in_flight(store, 1.0) == (16, 16)


async def _batch(
    store: RunStore, survivors: int, gap: float = 1.0
) -> tuple[list[int], list[float]]:
    """Twenty runs kicked `gap` apart into a crew never seen before: for each, the polls made
    during its first task, and how late its completion was seen."""
    clock = ManualClock()
    starts: dict[str, float] = {}
    monitor, client = make(store, clock, fleet(clock, starts), survivors=survivors)
    await monitor.start()
    runs = []
    for _ in range(20):
        runs.append(await kick(store, clock, monitor, starts))
        await clock.advance(gap)
    await clock.run_until(
        lambda: all(store.get(r.local_id).state.is_final for r in runs), 200, step=0.25
    )
    await monitor.stop()
    polls, late = [], []
    for run in runs:
        t0 = starts[run.kickoff_id]
        calls = client.calls_for(run.kickoff_id)
        polls.append(len([t for t in calls if t0 + QUEUE < t < t0 + QUEUE + TASK]))
        finished = store.get(run.local_id).finished_at - clock.wall_offset
        late.append(finished - (t0 + QUEUE + 2 * TASK))
    return polls, late


async def test_runs_behind_others_in_an_unknown_phase_wait_for_them(store) -> None:
    """Runs kicked off 1 s apart: none is polled at the explore cap (the first stretches like
    any run: each of the others reaches the end after it learnt it); the ones behind are not
    polled before the age all the runs ahead were seen still in it."""
    alone, _ = await _batch(store, survivors=0)
    together, late = await _batch(store, survivors=3)
    assert together[0] < alone[0]  # no look-out at the cap: the runs are spread out
    assert sum(together[1:3]) < sum(alone[1:3])
    assert sum(together[3:]) <= sum(alone[3:]) / 3
    # once the runs ahead finish it, the phase is known and those behind are due at its end:
    # the typical completion is seen within half of poll_min
    assert sorted(late)[len(late) // 2] <= 0.5
    # the worst as late as the stretch allows at that age (the change before it came when
    # its phase was still unknown), far under poll_max
    assert max(late) <= 0.5 * TASK


async def test_runs_kicked_off_together_share_one_look_out(store) -> None:
    """Twenty runs within a second: one of them looks at the unknown phase as often as a run
    on its own would (every explore_max poll_min, 2 s), the others wait on its news: every
    completion is seen within that of when it came."""
    alone, _ = await _batch(store, survivors=0, gap=0.05)
    together, late = await _batch(store, survivors=3, gap=0.05)
    assert max(together) >= alone[0]  # the look-out
    assert sum(together) <= sum(alone) / 3
    assert max(late) <= 2.0


async def test_a_refresh_is_never_put_off_by_what_the_crew_learnt(store) -> None:
    clock = ManualClock()
    starts: dict[str, float] = {}
    monitor, client = make(store, clock, fleet(clock, starts))
    await monitor.start()
    for _ in range(5):
        run = await kick(store, clock, monitor, starts)
        await clock.run_until(lambda r=run: store.get(r.local_id).state.is_final, 120, step=0.25)
    run = await kick(store, clock, monitor, starts)
    await clock.advance(QUEUE + 5)  # in task a, whose end is 15 s away and trusted
    before = len(client.calls_for(run.kickoff_id))
    refreshed = asyncio.ensure_future(monitor.refresh(run.local_id))
    await clock.advance(0.01)
    assert refreshed.done()
    assert len(client.calls_for(run.kickoff_id)) == before + 1
    await monitor.stop()


async def test_runs_waiting_in_a_phase_are_pulled_in_when_it_becomes_known(store) -> None:
    """A run whose next look was planned far ahead (nothing was known) is due at the phase's
    end as soon as a run ahead finishes that phase and dates it."""
    clock = ManualClock()
    starts: dict[str, float] = {}
    monitor, _client = make(store, clock, fleet(clock, starts), survivors=0)
    await monitor.start()
    first = await kick(store, clock, monitor, starts)
    await clock.advance(5.0)
    second = await kick(store, clock, monitor, starts)
    await clock.run_until(lambda: store.get(first.local_id).current_task == "b", 60, step=0.25)
    behind = monitor._runs[second.local_id]
    assert behind.phase == ("running", "a")
    # due at its own end of task a (QUEUE + TASK after its kickoff), not at its stretch
    assert behind.due <= starts[second.kickoff_id] + QUEUE + TASK
    await monitor.stop()
