"""The run diff in the dashboard: the real engine, a real SQLite store and two runs the
simulator ran over loopback. `m` marks a run in the table, `d` on another (in its detail)
opens the diff; `d` without a mark, or on the marked run, says what to do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.models import RunState
from crewdash.core.engine import Engine
from crewdash.core.models import RunChanged
from crewdash.core.store.database import RunStore
from crewdash.tui.app import CrewdashApp
from crewdash.tui.messages import StartRun
from crewdash.tui.run_marks import NO_MARK, SAME_RUN
from crewdash.tui.screens.run_detail import RunDetailScreen
from crewdash.tui.screens.run_diff import RunDiffScreen
from crewdash.tui.widgets.diff_view import DiffView
from crewdash.tui.widgets.runs_cells import MARK
from tests.sim_config import sim_config
from tests.tui.test_app_e2e import DEADLINE, expect_event


@pytest.fixture
async def app(sim_server: Any, tmp_path: Path) -> AsyncIterator[CrewdashApp]:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    yield CrewdashApp(Engine(sim_config(sim_server, ["basic"]), store), data_dir=tmp_path)
    store.close()


async def _two_finished_runs(app: CrewdashApp) -> tuple[str, str]:
    def finished(topic: str) -> asyncio.Future[Any]:
        return expect_event(
            app,
            lambda e: (
                isinstance(e, RunChanged)
                and e.run.inputs.get("topic") == topic
                and e.run.state is RunState.COMPLETED
            ),
        )

    robots, rockets = finished("robots"), finished("rockets")
    app.post_message(StartRun("basic", {"topic": "robots"}))
    app.post_message(StartRun("basic", {"topic": "rockets"}))
    return (await robots).run.local_id, (await rockets).run.local_id


async def test_mark_a_run_open_another_and_diff_them(app: CrewdashApp) -> None:
    notes: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: Any) -> None:
        notes.append(message)
        notify(message, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
        first, second = await _two_finished_runs(app)
        main = app.main_screen
        runs = main.runs
        runs.flush()
        runs.focus()
        await pilot.pause()

        runs.move_cursor(row=runs.get_row_index(first), animate=False)
        await pilot.press("d")
        assert notes[-1] == NO_MARK and app.screen is main

        await pilot.press("m")
        runs.flush()
        assert runs.get_cell(first, "crew").plain.startswith(f"{MARK} basic")
        assert not runs.get_cell(second, "crew").plain.startswith(MARK)
        assert "Marked run basic" in notes[-1]
        await pilot.press("m")  # again: unmarked
        runs.flush()
        assert runs.get_cell(first, "crew").plain == "basic"
        await pilot.press("m")
        await pilot.press("d")  # on the marked run itself
        assert notes[-1] == SAME_RUN and app.screen is main

        runs.move_cursor(row=runs.get_row_index(second), animate=False)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen) and app.screen.local_id == second
        await pilot.press("d")
        await pilot.pause()
        diff_screen = app.screen
        assert isinstance(diff_screen, RunDiffScreen)
        assert diff_screen.diff.a.local_id == first and diff_screen.diff.b.local_id == second
        view = diff_screen.query_one(DiffView)
        lines = [view.line_text(i) for i in range(view.line_count)]
        topic = next(line for line in lines if "topic:" in line)
        left, right = topic.split(" │ ")
        assert left.strip() == "~ topic: robots" and right.strip() == "~ topic: rockets"
        assert any(line.startswith("Task first  changed") for line in lines)
        assert any(
            "~ First about robots" in line and "~ First about rockets" in line for line in lines
        )
        head = str(diff_screen.query_one("#diff-title").render())
        assert "Run diff · basic" in head

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        await pilot.press("m")  # the open run becomes the marked one
        await pilot.press("escape")
        await pilot.pause()
        runs.flush()
        assert runs.get_cell(second, "crew").plain.startswith(MARK)
        assert not runs.get_cell(first, "crew").plain.startswith(MARK)
