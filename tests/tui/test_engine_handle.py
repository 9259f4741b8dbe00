"""DeferredEngine: the dashboard's engine before the engine exists, and the targeted cell
updates of the runs table."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from crewdash.core.config.model import Config
from crewdash.core.engine_thread import EngineThread, EngineThreadError
from crewdash.core.models import CrewHealth, Event, RunChanged, RunRecord
from crewdash.tui.app import CrewdashApp
from crewdash.tui.engine_handle import CONNECTING, DeferredEngine
from tests.tui.fake_engine import FakeEngine, crew
from tests.tui.test_app_shell import T0, make_engine, make_run, settle


async def test_queries_answer_nothing_yet_and_verbs_wait_for_the_engine() -> None:
    config = Config(path=None, crews={"research": crew("research")})
    real = FakeEngine(config, [make_run(1)])
    deferred = DeferredEngine(config, lambda: real)  # type: ignore[arg-type, return-value]
    seen: list[Event] = []
    unsubscribe = deferred.subscribe(seen.append)
    assert deferred.runs() == [] and deferred.inbox() == [] and deferred.store is None
    assert deferred.crew_health("research") == (CrewHealth.UNKNOWN, CONNECTING)
    asking = asyncio.ensure_future(deferred.inputs("research"))
    await asyncio.sleep(0)
    assert not asking.done()  # waits for the engine
    await deferred.start()
    assert [s.name for s in await asyncio.wait_for(asking, 5)] == ["topic"]
    assert real.started and [r.local_id for r in deferred.runs()] == ["l1"]
    real.publish(RunChanged(make_run(1, current_task="later")))
    assert len(seen) == 1  # the early subscriber was handed to the engine
    unsubscribe()
    real.publish(RunChanged(make_run(1)))
    assert len(seen) == 1


async def test_the_app_paints_first_then_builds_and_starts_the_engine(tmp_path: Path) -> None:
    real = make_engine([make_run(1)])
    built: list[bool] = []

    def factory() -> FakeEngine:
        built.append(True)
        return real

    deferred = DeferredEngine(real.config, factory)  # type: ignore[arg-type]
    app = CrewdashApp(deferred, now=lambda: T0, data_dir=tmp_path)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert built == [True] and real.started
        assert app.sub_title != CONNECTING
        assert app.main_screen.runs.get_cell("l1", "crew").plain == "research"
    assert real.stopped


async def test_a_changed_cell_is_repainted_and_other_rows_keep_their_renders(
    tmp_path: Path,
) -> None:
    engine = make_engine([make_run(1), make_run(2)])
    app = CrewdashApp(engine, now=lambda: T0, data_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        before = table.render_line(2).text  # header, l1, l2
        engine.publish(RunChanged(replace(make_run(1), current_task="brand_new")))
        await pilot.pause()
        table.flush()
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(3)]
        assert "brand_new" in lines[1]
        assert lines[2] == before


class ThreadNoting(FakeEngine):
    """A fake engine that notes on which thread each of its coroutines ran."""

    def __init__(self, config: Config) -> None:
        super().__init__(config, [make_run(1)])
        self.threads: dict[str, str] = {}
        self.dismissed: list[str] = []

    async def start(self) -> None:
        self.threads["start"] = threading.current_thread().name
        await super().start()

    async def stop(self) -> None:
        self.threads["stop"] = threading.current_thread().name
        await super().stop()

    async def kickoff(self, crew: str, inputs: dict[str, object]) -> RunRecord:
        self.threads["kickoff"] = threading.current_thread().name
        return await super().kickoff(crew, inputs)

    def dismiss(self, local_id: str, reason: str = "") -> str:
        self.threads["dismiss"] = threading.current_thread().name
        self.dismissed.append(local_id)
        return local_id


async def test_on_a_thread_verbs_run_there_and_events_come_back_to_this_loop() -> None:
    config = Config(path=None, crews={"research": crew("research")})
    real = ThreadNoting(config)
    cleaned: list[str] = []

    async def after_stop() -> None:
        cleaned.append(threading.current_thread().name)

    deferred = DeferredEngine(
        config,
        lambda: real,  # type: ignore[arg-type, return-value]
        thread=EngineThread(name="engine-under-test"),
        after_stop=after_stop,
    )
    seen: list[tuple[Event, str]] = []
    arrived = asyncio.Event()

    def on_event(event: Event) -> None:
        seen.append((event, threading.current_thread().name))
        arrived.set()

    deferred.subscribe(on_event)
    await deferred.start()
    assert real.threads["start"] == "engine-under-test"
    assert [r.local_id for r in deferred.runs()] == ["l1"]  # a read: here, no thread hop
    run = await deferred.kickoff("research", {"topic": "x"})
    assert real.threads["kickoff"] == "engine-under-test" and run.local_id == "l1"
    await asyncio.wait_for(arrived.wait(), 5)
    [(event, where)] = seen
    assert isinstance(event, RunChanged) and event.run.inputs == {"topic": "x"}
    assert where == threading.current_thread().name  # delivered on this loop's thread
    assert deferred.dismiss("l1") == "l1"  # a synchronous verb: called there, waited for
    assert real.threads["dismiss"] == "engine-under-test"
    await deferred.stop()
    assert real.threads["stop"] == "engine-under-test" and cleaned == ["engine-under-test"]
    await deferred.stop()  # twice is harmless
    assert cleaned == ["engine-under-test"]


async def test_stopping_while_the_engine_still_starts_stops_it_on_its_thread() -> None:
    config = Config(path=None, crews={"research": crew("research")})
    real = ThreadNoting(config)
    building = threading.Event()
    release = threading.Event()

    async def slow_factory() -> FakeEngine:
        building.set()
        await asyncio.to_thread(release.wait, 5)  # imports and a store that take a while
        return real

    thread = EngineThread()
    deferred = DeferredEngine(config, slow_factory, thread=thread)  # type: ignore[arg-type]
    starting = asyncio.ensure_future(deferred.start())
    await asyncio.to_thread(building.wait, 5)
    starting.cancel()  # the app leaves: its start worker is cancelled...
    release.set()
    await deferred.stop()  # ...and it stops the engine, whatever stage it reached
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert not real.started or real.stopped
    with pytest.raises(EngineThreadError):
        thread.call(lambda: None)  # the thread is gone


async def test_a_build_that_ends_just_after_the_stop_looked_is_never_started() -> None:
    # CI caught the race: the app's cancellation of its start had not reached the engine's
    # loop when the stop looked for a built engine; the build then finished and started one
    config = Config(path=None, crews={"research": crew("research")})
    real = ThreadNoting(config)
    building = threading.Event()
    looked = threading.Event()
    built = threading.Event()

    async def factory_finishing_after_the_look() -> FakeEngine:
        building.set()
        await asyncio.to_thread(looked.wait, 5)
        built.set()
        return real

    async def after_stop() -> None:
        # runs once the stop has looked for a built engine: the build may finish now, and
        # is given the moment it needs (it never comes when the stop ended the build first)
        looked.set()
        await asyncio.to_thread(built.wait, 0.5)

    thread = EngineThread()
    deferred = DeferredEngine(
        config,
        factory_finishing_after_the_look,
        thread=thread,
        after_stop=after_stop,  # type: ignore[arg-type]
    )
    starting = asyncio.ensure_future(deferred.start())
    await asyncio.to_thread(building.wait, 5)
    await deferred.stop()
    assert looked.is_set()
    assert not real.started
    with pytest.raises(asyncio.CancelledError):
        await starting


async def test_the_app_follows_an_engine_on_its_own_thread(tmp_path: Path) -> None:
    real = make_engine([make_run(1)])
    thread = EngineThread()
    deferred = DeferredEngine(real.config, lambda: real, thread=thread)  # type: ignore[arg-type, return-value]
    app = CrewdashApp(deferred, now=lambda: T0, data_dir=tmp_path)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        delivered = asyncio.Event()
        deferred.subscribe(lambda event: delivered.set())  # after the app's own subscriber
        thread.call(lambda: real.publish(RunChanged(replace(make_run(1), current_task="far"))))
        await asyncio.wait_for(delivered.wait(), 5)
        await pilot.pause()  # the app's EngineEvents message reaches the screen
        table.flush()
        assert "far" in table.get_cell("l1", "task").plain
    assert real.stopped
    with pytest.raises(EngineThreadError):
        thread.call(lambda: None)
