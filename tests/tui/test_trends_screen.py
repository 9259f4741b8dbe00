"""The crew trends in the dashboard: the crew pane's 24 h sparklines and the trends screen
(`t`), read from a real store file; following the real engine's runs against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from crewdash.aop.models import RunState
from crewdash.core.models import InboxChanged, KickoffPhase, RunChanged
from crewdash.core.store.database import RunStore
from crewdash.tui.app import CrewdashApp
from crewdash.tui.messages import StartRun
from crewdash.tui.screens.crew_trends import CrewTrendsScreen
from crewdash.tui.screens.main import MainScreen
from crewdash.tui.trends_feed import moves_trends
from tests.tui.screens_fixtures import crew_request
from tests.tui.shell_apps import NOW, main_app, sample_runs, settle
from tests.tui.test_app_e2e import DEADLINE, dashboard, expect_event, form_loaded
from tests.tui.trends_apps import close_store, trends_app, trends_loaded, trends_open

__all__ = ["dashboard"]  # the fixture, imported for these tests too

pytestmark = pytest.mark.usefixtures("utc")


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_t_opens_the_highlighted_crews_trends_and_esc_goes_back(tmp_path: Path) -> None:
    app = trends_app(tmp_path / "runs.sqlite3")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await trends_loaded(pilot)
            pane = app.main_screen.crews
            research = pane.trends("research")
            assert research is not None and research.total.runs > 0
            prompt = pane.get_option("research").prompt
            assert f"{research.total.runs} in 24h" in str(prompt)
            assert "runs per hour, last 24 h: min" in str(pane.tooltip)
            await trends_open(pilot)
            screen = app.screen
            assert isinstance(screen, CrewTrendsScreen) and screen.crew == "research"
            assert screen.trends is not None
            day, week = screen.trends
            assert (day.bucket, week.bucket) == (3600, 6 * 3600)
            assert day.total.runs == research.total.runs and week.total.runs > day.total.runs
            shown = _text(screen, "#trends-day")
            assert shown.startswith("Last 24 hours — one block per hour")
            assert f"{day.total.runs} runs" in shown and "success rate" in shown
            assert "min 0, max" in shown  # the legend in words, for a screen reader
            assert "Last 7 days — one block per 6 hours" in _text(screen, "#trends-week")
            assert "±9 %" in _text(screen, "#trends-legend")
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)
    finally:
        close_store(app)


async def test_a_burst_of_run_changes_reads_the_store_once_more(tmp_path: Path) -> None:
    app = trends_app(tmp_path / "runs.sqlite3")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await trends_open(pilot)
            screen = app.screen
            assert isinstance(screen, CrewTrendsScreen) and screen.trends is not None
            before, loads = screen.trends[0].total.runs, screen.feed.loads
            store: RunStore = app.engine.store  # type: ignore[attr-defined]
            rec = store.create_intent("research", {}, "burst", {}, at=NOW - 60)
            store.mark_accepted(rec.local_id, "kick-burst", at=NOW - 60)
            for i, run in enumerate(sample_runs() * 10):  # 80 new runs in one go
                burst = replace(run, local_id=f"burst-{i}")
                app.engine.publish(RunChanged(burst))  # type: ignore[attr-defined]
            await pilot.pause()
            # the last read was under `interval` ago: one read is due, later; not one each
            assert screen.feed._timer is not None and screen.feed.loads == loads
            screen.feed._timer.stop()
            screen.feed._fire()  # the throttle's wait, cut short
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.feed.loads == loads + 1
            assert screen.trends[0].total.runs == before + 1
    finally:
        close_store(app)


def test_only_changes_that_move_the_trends_cost_a_read() -> None:
    running = sample_runs()[0]
    progressed = replace(running, completed_tasks=2, current_task="write")
    ended = replace(running, state=RunState.COMPLETED, finished_at=NOW)
    intent = replace(running, phase=KickoffPhase.INTENT)
    assert moves_trends(RunChanged(running), outcomes=False)  # new to us
    assert moves_trends(RunChanged(running, intent), outcomes=False)  # accepted: started
    assert not moves_trends(RunChanged(progressed, running), outcomes=True)
    assert not moves_trends(RunChanged(ended, running), outcomes=False)  # the pane: starts only
    assert moves_trends(RunChanged(ended, running), outcomes=True)
    assert moves_trends(InboxChanged(crew_request()), outcomes=True)
    assert not moves_trends(InboxChanged(crew_request()), outcomes=False)


async def test_without_a_store_the_screen_says_so() -> None:
    app = main_app()  # the fake engine has no store
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CrewTrendsScreen)
        assert "No run store yet" in _text(screen, "#trends-day")
        assert app.main_screen.crews.trends("research") is None


async def test_the_trends_follow_the_real_engines_runs(
    dashboard: Callable[..., CrewdashApp],
) -> None:
    app = dashboard(["basic"])
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
        await form_loaded(pilot, app, "basic")
        app.main_screen.crews.focus()
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, CrewTrendsScreen)
        screen.feed.interval = 0.0  # read on every change: the test waits for the one it needs
        completed = expect_event(
            app,
            lambda e: isinstance(e, RunChanged) and e.run.state is RunState.COMPLETED,
        )
        app.post_message(StartRun("basic", {"topic": "trends"}))
        await completed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        while loop.time() < deadline:  # the screen reads the store after the event reaches it
            if screen.trends is not None and screen.trends[0].total.completed == 1:
                break
            await pilot.pause(0.01)
        assert screen.trends is not None
        day = screen.trends[0].total
        assert (day.runs, day.completed, day.success_rate) == (1, 1, 1.0)
        assert day.duration_p50 is not None
        assert "1 runs · 100% success" in _text(screen, "#trends-day")
        await pilot.press("escape")
        pane = app.main_screen.crews
        while loop.time() < deadline:  # the pane's read is throttled too: at most 2 s later
            trends = pane.trends("basic")
            if trends is not None and trends.total.runs == 1:
                break
            await pilot.pause(0.05)
        trends = pane.trends("basic")
        assert trends is not None and trends.total.runs == 1
        assert "1 in 24h" in str(pane.get_option("basic").prompt)
