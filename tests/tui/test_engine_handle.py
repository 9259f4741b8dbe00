"""DeferredEngine: the dashboard's engine before the engine exists, and the targeted cell
updates of the runs table."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from crewdash.core.config.model import Config
from crewdash.core.models import CrewHealth, Event, RunChanged
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
