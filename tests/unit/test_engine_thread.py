"""EngineThread (a loop on a thread of its own) and EventRelay (its events, back on the
caller's loop, coalesced and at a bounded rate)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crewdash.aop.models import RunState
from crewdash.core.engine_thread import EngineThread, EngineThreadError, EventRelay
from crewdash.core.models import CrewHealth, CrewHealthChanged, Event, RunChanged
from tests.tui.test_app_shell import make_run


@pytest.fixture
def thread() -> Iterator[EngineThread]:
    made = EngineThread(name="test-engine")
    made.start()
    yield made
    made.stop()


async def test_a_coroutine_runs_on_the_thread_and_its_result_comes_back(
    thread: EngineThread,
) -> None:
    async def where() -> tuple[str, asyncio.AbstractEventLoop]:
        await asyncio.sleep(0)
        return threading.current_thread().name, asyncio.get_running_loop()

    name, loop = await thread.run(where)
    assert name == "test-engine" and loop is thread.loop
    assert loop is not asyncio.get_running_loop()


async def test_an_error_on_the_thread_is_raised_to_the_caller(thread: EngineThread) -> None:
    async def fail() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        await thread.run(fail)
    with pytest.raises(KeyError):
        thread.call(lambda: {}["missing"])


async def test_cancelling_the_caller_cancels_the_work_on_the_thread(
    thread: EngineThread,
) -> None:
    started = threading.Event()
    cancelled = threading.Event()
    ended: list[str] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            ended.append("cancelled")
            cancelled.set()
            raise

    waiting = asyncio.ensure_future(thread.run(forever))
    await asyncio.to_thread(started.wait, 5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # the cancellation reaches the thread's loop through call_soon_threadsafe and is thrown
    # into the task one loop turn later: wait for the task itself to see it
    assert await asyncio.to_thread(cancelled.wait, 10)
    assert ended == ["cancelled"]


def test_call_runs_on_the_thread_and_waits_for_the_result(thread: EngineThread) -> None:
    assert thread.call(lambda: threading.current_thread().name) == "test-engine"


def test_stop_ends_the_thread_and_cancels_what_was_left_running() -> None:
    thread = EngineThread()
    thread.start()
    cleaned = threading.Event()

    async def leftover() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    thread.call(lambda: asyncio.get_running_loop().create_task(leftover()))
    thread.stop()
    assert cleaned.is_set()
    with pytest.raises(EngineThreadError):
        thread.call(lambda: None)


class FakeLoop:
    """Records what the relay asks of the receiving loop (one unit: the relay)."""

    def __init__(self) -> None:
        self.asked: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        self.asked.append((fn, args))


def test_the_relay_waits_out_its_interval_after_a_delivery() -> None:
    now = [100.0]
    loop = FakeLoop()
    got: list[list[Event]] = []
    relay = EventRelay(loop, got.append, min_interval=0.05, clock=lambda: now[0])  # type: ignore[arg-type]  # a fake loop
    relay.push(RunChanged(make_run(1)))
    assert [args for _, args in loop.asked] == [(0.0,)]  # the first goes at once
    relay._flush()
    now[0] += 0.02
    relay.push(RunChanged(make_run(2)))
    relay.push(RunChanged(make_run(3)))
    assert len(loop.asked) == 2  # one wake-up for both
    assert loop.asked[1][1][0] == pytest.approx(0.03)  # what is left of 50 ms
    relay._flush()
    assert [[e.run.local_id for e in batch if isinstance(e, RunChanged)] for batch in got] == [
        ["l1"],
        ["l2", "l3"],
    ]


def test_coalescing_keeps_the_oldest_previous_so_a_completion_is_still_seen() -> None:
    loop = FakeLoop()
    got: list[list[Event]] = []
    relay = EventRelay(loop, got.append)  # type: ignore[arg-type]  # a fake loop
    running = make_run(1, state=RunState.RUNNING)
    completed = make_run(1, state=RunState.COMPLETED)
    with_result = make_run(1, state=RunState.COMPLETED, current_task="done")
    relay.push(RunChanged(completed, running))
    relay.push(CrewHealthChanged("research", CrewHealth.OK, "ok", 1.0))
    relay.push(RunChanged(with_result, completed))
    relay._flush()
    [[health, change]] = got
    assert isinstance(health, CrewHealthChanged)
    assert isinstance(change, RunChanged)
    assert change.run is with_result and change.previous is running


async def test_a_burst_from_the_thread_arrives_in_few_deliveries_and_nothing_is_lost(
    thread: EngineThread,
) -> None:
    loop = asyncio.get_running_loop()
    got: list[list[Event]] = []
    done = asyncio.Event()

    def deliver(events: list[Event]) -> None:
        got.append(events)
        if any(isinstance(e, RunChanged) and e.run.current_task == "t999" for e in events):
            done.set()

    relay = EventRelay(loop, deliver, min_interval=0.05)

    def burst() -> None:
        for i in range(1000):
            relay.push(RunChanged(make_run(i % 10, current_task=f"t{i}")))

    thread.call(burst)
    await asyncio.wait_for(done.wait(), 5)
    assert len(got) < 100  # 1,000 events, a handful of deliveries
    latest: dict[str, str | None] = {}
    for batch in got:
        for event in batch:
            assert isinstance(event, RunChanged)
            latest[event.run.local_id] = event.run.current_task
    assert latest == {f"l{k}": f"t{990 + k}" for k in range(10)}


def test_a_closed_relay_delivers_nothing_more() -> None:
    loop = FakeLoop()
    got: list[list[Event]] = []
    relay = EventRelay(loop, got.append)  # type: ignore[arg-type]  # a fake loop
    relay.push(RunChanged(make_run(1)))
    relay.close()
    relay.push(RunChanged(make_run(2)))
    relay._flush()
    assert got == [] and len(loop.asked) == 1  # the pending one dropped, no new wake-up
