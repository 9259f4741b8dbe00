"""What one poll costs the monitor: an unchanged status touches neither the store nor the bus."""

from __future__ import annotations

from typing import Any

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus
from crewdash.core.models import Event, RunChanged
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from engine.fakes import (
    ManualClock,
    ScriptedClient,
    accepted_run,
    completed,
    crew_config,
    status,
)


class CountingStore:
    """The real store, counting every call the monitor makes on it but `batch()`: that is
    the tick's bracket round each turn's answers (tick.py), no access by itself (it runs no
    SQL unless a write inside it does; the first test checks that on the SQL itself)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if callable(attr) and name != "batch":

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attr(*args, **kwargs)

            return counted
        return attr


def make(
    store: RunStore, clock: ManualClock, answer: Any
) -> tuple[Monitor, CountingStore, ScriptedClient, list[Event]]:
    counting = CountingStore(store)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    monitor = Monitor(counting, bus, clock=clock, settings=MonitorSettings(jitter=0.0))
    client = ScriptedClient(clock, answer)
    monitor.add_crew(crew_config(poll_max=2.0), client)
    return monitor, counting, client, events


async def test_an_unchanged_status_causes_no_store_access(store) -> None:
    clock = ManualClock()
    monitor, counting, client, events = make(store, clock, lambda k, n: status(done=1))
    run = accepted_run(store)
    monitor.track(run)
    statements: list[str] = []
    assert store._conn is not None
    store._conn.set_trace_callback(statements.append)
    await monitor.start()
    await clock.advance(30)
    await monitor.stop()
    polls = len(client.calls_for(run.kickoff_id))
    assert polls >= 10
    # the first poll saw pending -> running and wrote it; the other polls touched nothing
    assert counting.calls == ["record_status"]
    # the change log's triggers (issue 14) trace their statement again each time they fire:
    # repeats in a row are the one statement
    written = [s.split()[0] for s in statements if not s.startswith("SELECT")]
    assert [w for i, w in enumerate(written) if i == 0 or w != written[i - 1]] == [
        "BEGIN",
        "SAVEPOINT",
        "UPDATE",
        "INSERT",
        "RELEASE",
        "COMMIT",
    ]
    assert [e.run.state for e in events if isinstance(e, RunChanged)] == [RunState.RUNNING]
    assert store.get(run.local_id).completed_tasks == 1


async def test_a_change_after_unchanged_polls_is_written_then_published(store) -> None:
    clock = ManualClock()
    t0 = clock.now

    def answer(_k: str, now: float) -> RunStatus:
        if now < t0 + 10:
            return status(task="a", done=0)
        if now < t0 + 20:
            return status(task="b", done=1)
        return completed("report")

    monitor, counting, _client, events = make(store, clock, answer)
    on_disk: list[bool] = []
    monitor.bus.subscribe(
        lambda e: isinstance(e, RunChanged) and on_disk.append(store.get(e.run.local_id) == e.run)
    )
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(40)
    await monitor.stop()
    assert counting.calls == ["record_status"] * 3  # one per change, none in between
    assert [e.run.current_task for e in events if isinstance(e, RunChanged)] == ["a", "b", None]
    assert on_disk == [True, True, True]
    assert store.get(run.local_id).result.output == "report"


async def test_the_same_status_after_a_store_failure_is_written_again(store) -> None:
    """The in-memory 'already applied' mark is set only once the store took the change."""
    clock = ManualClock()
    monitor, counting, _client, events = make(store, clock, lambda k, n: status(done=1))
    failing = {"left": 1}
    real = store.record_status

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    store.record_status = flaky  # type: ignore[method-assign]
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(60)
    await monitor.stop()
    assert counting.calls == ["record_status", "record_status"]
    assert store.get(run.local_id).state is RunState.RUNNING
    assert [e.run.state for e in events if isinstance(e, RunChanged)] == [RunState.RUNNING]


async def _phase_runs(store: RunStore, lengths: list[float]) -> tuple[list[int], list[float]]:
    """Runs one after another, each of two tasks lasting lengths[i]; for each run the polls
    made in its second task and the delay with which its completion was seen."""
    clock = ManualClock()
    starts: dict[str, tuple[float, float]] = {}

    def answer(kid: str, now: float) -> RunStatus:
        start, length = starts[kid]
        elapsed = now - start
        if elapsed < length:
            return status(task="a", done=0)
        if elapsed < 2 * length:
            return status(task="b", done=1)
        return completed()

    monitor, _counting, client, _events = make(store, clock, answer)
    monitor._crews["research"].config = crew_config(poll_max=30.0)
    polls: list[int] = []
    delays: list[float] = []
    for i, length in enumerate(lengths):
        run = accepted_run(store)
        start = clock.now
        starts[run.kickoff_id] = (start, length)
        monitor.track(run)
        if i == 0:
            await monitor.start()
        await clock.run_until(lambda r=run: store.get(r.local_id).state.is_final, 300, step=0.1)
        calls = client.calls_for(run.kickoff_id)
        polls.append(len([t for t in calls if start + length <= t < start + 2 * length]))
        finished = store.get(run.local_id).finished_at - clock.wall_offset
        delays.append(finished - (start + 2 * length))
    await monitor.stop()
    return polls, delays


async def test_a_phase_of_well_known_length_is_polled_only_near_its_end(store) -> None:
    polls, delays = await _phase_runs(store, [20.0] * 6)
    assert polls[0] >= 6  # nothing learnt yet: poll_min, then stretching
    assert polls[-1] <= 3  # trusted: the change into it, then about its expected end
    assert delays[-1] <= 1.5


async def test_a_phase_of_erratic_length_keeps_the_stretching_polls(store) -> None:
    polls, _delays = await _phase_runs(store, [20.0, 8.0, 30.0, 12.0, 25.0, 10.0, 20.0])
    assert polls[-1] >= 5  # never trusted: an early end is still seen within the stretch
