"""The monitor's scheduler with a manual clock, a scripted client and a real SQLite store."""

from __future__ import annotations

import itertools
import random

from crewdash.aop.errors import (
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus, coalesce
from crewdash.core.models import CrewHealth, CrewHealthChanged, Event, RunChanged
from crewdash.core.monitor.poller import NOTE_EXPIRED, NOTE_TOKEN, Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from engine.fakes import (
    ManualClock,
    ScriptedClient,
    accepted_run,
    completed,
    crew_config,
    settle,
    status,
)


def make(
    store: RunStore,
    clock: ManualClock,
    answer,
    *,
    poll_min: float = 1.0,
    poll_max: float = 30.0,
    rng: random.Random | None = None,
    **settings,
) -> tuple[Monitor, ScriptedClient, list[Event]]:
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    settings.setdefault("jitter", 0.0)
    monitor = Monitor(store, bus, clock=clock, settings=MonitorSettings(**settings), rng=rng)
    client = ScriptedClient(clock, answer)
    monitor.add_crew(crew_config(poll_min=poll_min, poll_max=poll_max), client)
    return monitor, client, events


async def test_interval_stretches_while_nothing_changes_and_resets_on_change(store) -> None:
    clock = ManualClock()
    t0 = clock.now

    def answer(_kid: str, now: float) -> RunStatus:
        return status(done=0) if now < t0 + 40 else status(task="write", done=1)

    # explore_max off: the stretch itself (the cap on unknown phases: test_monitor_plan)
    monitor, client, _ = make(store, clock, answer, poll_max=8.0, explore_max=0.0)
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(60)
    await monitor.stop()
    times = client.calls_for(run.kickoff_id)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    # first poll at once (it sees a change: pending -> running), then poll_min, then 1.5x
    assert times[0] == t0
    assert gaps[:6] == [1.0, 1.5, 2.25, 3.375, 5.062, 7.594]
    assert max(gaps) <= 8.0
    change_at = next(t for t in times if t >= t0 + 40)
    after = [t for t in times if t > change_at]
    assert round(after[0] - change_at, 3) == 1.0  # reset to poll_min after the change


async def test_requests_in_flight_never_exceed_the_global_cap(store) -> None:
    clock = ManualClock()
    monitor, client, _ = make(store, clock, lambda k, n: status(), max_in_flight=4)
    client.gate = __import__("asyncio").Event()
    for _ in range(30):
        monitor.track(accepted_run(store))
    await monitor.start()
    await clock.advance(1)
    assert client.in_flight == 4
    client.gate.set()
    await clock.advance(5)
    assert client.peak == 4
    assert len({k for _, k in client.calls}) == 30  # everyone got polled
    await monitor.stop()


async def test_a_refresh_in_flight_when_the_monitor_stops_returns_the_stored_record(
    store,
) -> None:
    import asyncio

    clock = ManualClock()
    monitor, client, _ = make(store, clock, lambda k, n: status())
    client.gate = asyncio.Event()  # the poll never answers
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    refresh = asyncio.ensure_future(monitor.refresh(run.local_id))
    await clock.advance(1)
    assert not refresh.done() and client.in_flight == 1
    await monitor.stop()
    await settle()
    assert refresh.done() and refresh.result().local_id == run.local_id
    # after stop nothing polls: a refresh returns what is stored instead of waiting forever
    assert (await asyncio.wait_for(monitor.refresh(run.local_id), 5)).local_id == run.local_id


async def test_rate_learnt_from_429_is_never_exceeded(store) -> None:
    clock = ManualClock()
    limit = 5  # the server allows 5 requests in any 1-second window
    recent: list[float] = []

    def answer(_kid: str, now: float):
        while recent and recent[0] <= now - 1.0:
            recent.pop(0)
        if len(recent) >= limit:
            return RateLimitedError("slow down", retry_after=2.0)
        recent.append(now)
        return status()

    monitor, client, _ = make(store, clock, answer, poll_min=0.2, poll_max=0.2)
    for _ in range(40):
        monitor.track(accepted_run(store))
    await monitor.start()
    await clock.advance(120, step=0.05)
    await monitor.stop()
    rate = monitor.learnt_rate("research")
    assert rate is not None and rate <= limit
    first_429 = None
    recent.clear()
    # replay: find when the first 429 happened, then check every later window
    times = [t for t, _ in client.calls]
    window: list[float] = []
    for t in times:
        window = [w for w in window if w > t - 1.0] + [t]
        if len(window) > limit and first_429 is None:
            first_429 = t
    assert first_429 is not None, "the test must provoke a 429"
    later = [t for t in times if t > first_429 + 3.0]  # after the Retry-After pause
    assert len(later) > 100  # it kept polling
    capacity = max(1.0, rate)
    for i, t in enumerate(later):
        in_window = sum(1 for u in later[i:] if u < t + 10.0)
        assert in_window <= rate * 10.0 + capacity + 1e-9


async def test_401_stops_polling_the_crew_with_a_clear_reason(store) -> None:
    clock = ManualClock()
    monitor, client, events = make(
        store, clock, lambda k, n: AuthenticationError("token rejected", status_code=401)
    )
    runs = [accepted_run(store) for _ in range(3)]
    for r in runs:
        monitor.track(r)
    await monitor.start()
    await clock.advance(5)
    calls = len(client.calls)
    await clock.advance(120)
    await monitor.stop()
    assert len(client.calls) == calls <= 3  # nothing after the rejection
    assert monitor.crew_health("research") == (CrewHealth.TOKEN_REJECTED, NOTE_TOKEN)
    assert all(store.get(r.local_id).note == NOTE_TOKEN for r in runs)
    assert all(store.get(r.local_id).state is RunState.PENDING for r in runs)
    assert any(
        isinstance(e, CrewHealthChanged) and e.health is CrewHealth.TOKEN_REJECTED for e in events
    )
    assert monitor.tracked() == set()


async def test_a_new_client_resumes_the_parked_runs(store) -> None:
    clock = ManualClock()
    monitor, _client, _ = make(store, clock, lambda k, n: AuthenticationError("no"))
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(2)
    good = ScriptedClient(clock, lambda k, n: completed())
    monitor.set_client("research", good)
    await clock.advance(2)
    await monitor.stop()
    assert store.get(run.local_id).state is RunState.COMPLETED
    assert store.get(run.local_id).note is None


async def test_404_marks_the_run_expired_and_stops_tracking_it(store) -> None:
    clock = ManualClock()
    monitor, client, events = make(store, clock, lambda k, n: NotFoundError("gone"))
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(60)
    await monitor.stop()
    assert len(client.calls) == 1
    assert store.get(run.local_id).note == NOTE_EXPIRED
    assert run.local_id not in monitor.tracked()
    assert isinstance(events[-1], RunChanged) and events[-1].run.note == NOTE_EXPIRED


async def test_unreachable_crew_makes_runs_offline_not_error_then_recovers(store) -> None:
    clock = ManualClock()
    down = {"on": True}

    def answer(_k: str, _n: float):
        if down["on"]:
            return ConnectionFailedError("refused", may_have_reached_server=False)
        return status()

    monitor, _client, events = make(store, clock, answer, poll_max=4.0)
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.run_until(lambda: monitor.crew_health("research")[0] is CrewHealth.OFFLINE, 60)
    _health, detail = monitor.crew_health("research")
    assert detail.startswith("crew offline since ")
    rec = store.get(run.local_id)
    assert rec.offline_since is not None and rec.state is not RunState.ERROR
    down["on"] = False
    await clock.run_until(lambda: monitor.crew_health("research")[0] is CrewHealth.OK, 30)
    await monitor.stop()
    assert store.get(run.local_id).offline_since is None
    assert [e.health for e in events if isinstance(e, CrewHealthChanged)] == [
        CrewHealth.SLOW,  # failures in a row, not yet evidence enough: "flaky"
        CrewHealth.OFFLINE,
        CrewHealth.OK,
    ]


async def test_sporadic_server_errors_make_a_crew_flaky_never_offline(store) -> None:
    """Issue 11 #7b: one request in five answers 5xx, once three in a row over more than
    10 s, and once the client's breaker holds a request back; every other one succeeds."""
    clock = ManualClock()
    calls = itertools.count()

    def answer(_k: str, _n: float) -> RunStatus | BaseException:
        i = next(calls)
        if i in (3, 4, 5):
            return ServerError("503 from the proxy", status_code=503)
        if i == 8:
            return CircuitOpenError("not sent", retry_in=5.0)
        if i % 5 == 0 and i > 0:
            return ServerError("500", status_code=500)
        return status()

    monitor, client, events = make(store, clock, answer, poll_max=10.0)
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(300)
    await monitor.stop()
    assert len(client.calls) > 30
    health = [e for e in events if isinstance(e, CrewHealthChanged)]
    assert CrewHealth.OFFLINE not in {e.health for e in health}
    assert store.get(run.local_id).offline_since is None
    assert any(e.health is CrewHealth.SLOW and e.detail.startswith("flaky: ") for e in health)
    assert "server errors" in next(e.detail for e in health if e.detail.startswith("flaky: "))


async def test_offline_needs_failures_in_a_row_for_a_while_and_one_success_ends_it(
    store,
) -> None:
    clock = ManualClock()
    down = {"on": False}

    def answer(_k: str, _n: float) -> RunStatus | BaseException:
        return ServerError("503", status_code=503) if down["on"] else status()

    monitor, client, _events = make(store, clock, answer, poll_max=2.0)
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(5)
    down["on"] = True
    went_down = clock.now
    await clock.run_until(lambda: monitor.crew_health("research")[0] is CrewHealth.OFFLINE, 60)
    polled = client.calls_for(run.kickoff_id)
    last_ok = max(t for t in polled if t < went_down)
    failed = [t for t in polled if t >= went_down]
    assert len(failed) >= 5 and clock.now - last_ok >= 30.0  # the evidence asked for
    down["on"] = False
    polls = len(client.calls)
    await clock.run_until(lambda: monitor.crew_health("research")[0] is not CrewHealth.OFFLINE, 5)
    assert len(client.calls) == polls + 1  # one success was enough
    assert monitor.crew_health("research") == (CrewHealth.OK, "ok")
    await monitor.stop()
    assert store.get(run.local_id).offline_since is None


async def test_a_run_without_progress_for_much_longer_than_usual_is_flagged_stalled(
    store,
) -> None:
    clock = ManualClock()
    state = {"done": 0}
    monitor, _client, events = make(
        store, clock, lambda k, n: status(done=state["done"]), poll_max=5.0, stall_floor=10.0
    )
    for _ in range(3):
        monitor.learn_duration("research", 20.0)  # the crew usually takes 20 s
    assert monitor.stall_after("research") == 60.0
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(50)
    assert not store.get(run.local_id).stalled
    await clock.advance(20)
    assert store.get(run.local_id).stalled
    assert any(isinstance(e, RunChanged) and e.run.stalled for e in events)
    state["done"] = 1  # progress again: the flag goes
    await clock.advance(10)
    await monitor.stop()
    assert not store.get(run.local_id).stalled


async def test_every_event_is_on_disk_when_published_and_final_runs_are_dropped(store) -> None:
    clock = ManualClock()
    t0 = clock.now

    def answer(_k: str, now: float) -> RunStatus:
        if now < t0 + 3:
            return status(RunState.PENDING, task=None, raw="pending")
        if now < t0 + 6:
            return status(done=1)
        return completed("the report")

    monitor, client, _ = make(store, clock, answer)
    seen: list[bool] = []
    monitor.bus.subscribe(
        lambda e: isinstance(e, RunChanged) and seen.append(store.get(e.run.local_id) == e.run)
    )
    run = accepted_run(store)
    monitor.track(run)
    await monitor.start()
    await clock.advance(30)
    await monitor.stop()
    assert seen and all(seen)
    rec = store.get(run.local_id)
    assert rec.state is RunState.COMPLETED and rec.result.output == "the report"
    calls = client.calls_for(run.kickoff_id)
    assert calls[-1] < t0 + 10  # no polling after the final state
    assert [c.state for c in store.history(run.local_id)][-1] is RunState.COMPLETED


async def test_learnt_phase_length_lets_it_poll_near_the_expected_change(store) -> None:
    """After a few runs of a crew whose tasks take 20 s, a change is seen within ~poll_min
    though the interval ceiling is 30 s, with far fewer polls than every poll_min."""
    clock = ManualClock()
    starts: dict[str, float] = {}

    def answer(kid: str, now: float) -> RunStatus:
        elapsed = now - starts[kid]
        if elapsed < 20:
            return status(task="a", done=0)
        if elapsed < 40:
            return status(task="b", done=1)
        return completed()

    monitor, client, events = make(store, clock, answer)
    delays: list[float] = []
    for i in range(4):
        run = accepted_run(store)
        starts[run.kickoff_id] = clock.now
        monitor.track(run)
        if i == 0:
            await monitor.start()
        await clock.run_until(lambda r=run: store.get(r.local_id).state.is_final, 200, step=0.1)
        changes = [e.run.updated_at for e in events if isinstance(e, RunChanged)]
        assert changes
        delays.append(
            store.get(run.local_id).finished_at - clock.wall_offset - starts[run.kickoff_id] - 40
        )
    await monitor.stop()
    assert delays[-1] <= 1.5
    polls_last = len(client.calls_for(run.kickoff_id))
    assert polls_last < 40 / 1.0 / 2  # under half of what fixed poll_min polling needs


async def test_coalesce_keeps_the_latest_event_per_run(store) -> None:
    a, b = accepted_run(store), accepted_run(store)
    a2 = store.set_flags(a.local_id, note="x")
    merged = coalesce([RunChanged(a), RunChanged(b), RunChanged(a2)])
    assert merged == [RunChanged(b), RunChanged(a2)]
    await settle()
