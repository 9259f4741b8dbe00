"""The audit screen (`A`) in the real dashboard: the real engine, a real SQLite store and the
simulator over loopback. It lists the engine's kickoffs with who and channel, takes a new one
live without re-reading what it shows, filters (`/`), opens a run (Enter) and goes back (Esc)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from crewdash.core.audit import this_host
from crewdash.core.engine import Engine
from crewdash.core.models import RunChanged
from crewdash.core.store.database import RunStore, local_user
from crewdash.tui.app import CrewdashApp
from crewdash.tui.screens.audit import AuditScreen, matches
from crewdash.tui.screens.run_detail import RunDetailScreen
from tests.sim_config import sim_config
from tests.tui.test_app_e2e import DEADLINE, expect_event


@pytest.fixture
async def app(sim_server: Any, tmp_path: Path) -> AsyncIterator[CrewdashApp]:
    store = RunStore.open(tmp_path / "runs.sqlite3", channel="dashboard")
    engine = Engine(sim_config(sim_server, ["basic"]), store)
    yield CrewdashApp(engine, data_dir=tmp_path)
    store.close()


async def _until(pilot: Any, condition: Callable[[], bool]) -> None:
    """Let the app work until `condition` holds (it is re-checked after every pause)."""
    async with asyncio.timeout(DEADLINE):
        while not condition():
            await pilot.pause()


async def test_lists_live_filters_and_opens_the_run(app: CrewdashApp) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
        first = await app.engine.kickoff("basic", {"topic": "first"})
        await pilot.press("A")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        [entry] = screen.shown
        assert (entry.what, entry.local_id, entry.channel) == (
            "kickoff",
            first.local_id,
            "dashboard",
        )
        assert entry.who == f"{local_user()}@{this_host()}"
        assert entry.server_answer == f"2xx: kickoff id {first.kickoff_id}"

        started = expect_event(app, lambda e: isinstance(e, RunChanged) and e.previous is None)
        second = await app.engine.kickoff("basic", {"topic": "second"})
        await started
        await _until(pilot, lambda: len(screen.shown) == 2)
        newest, oldest = screen.shown
        assert newest.local_id == second.local_id
        assert oldest is entry  # the row already shown was not read again

        await pilot.press("slash")
        await _until(pilot, lambda: screen.query_one(Input).has_focus)
        assert second.kickoff_id is not None
        await pilot.press(*second.kickoff_id[:6], "enter")
        assert [e.local_id for e in screen.shown] == [second.local_id]
        assert screen.query_one(DataTable).has_focus
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        assert app.screen.local_id == second.local_id  # type: ignore[attr-defined]

        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is screen)
        await pilot.press("escape")  # clears the filter first
        assert len(screen.shown) == 2 and not screen.query_one(Input).display
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is app.main_screen)


def test_the_filter_matches_crew_run_and_operator() -> None:
    from crewdash.core.audit import AuditEntry, AuditKind

    entry = AuditEntry(
        kind=AuditKind.ACTION, id=1, at=0.0, user="ann", host="box", channel="cli:stop",
        crew="research", local_id="abcdef123", kickoff_id="k-777", what="stop", detail="",
        server_answer=None,
    )  # fmt: skip
    for needle in ("RESEARCH", "abcd", "k-77", "ann@box", "cli:stop", ""):
        assert matches(entry, needle), needle
    assert not matches(entry, "bob")
