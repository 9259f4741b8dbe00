"""Snapshots of the run detail's Events tab at 120x36 with frozen time (UTC, `NOW`): a run's
event stream, one event raw (`v`), and the tab when only polling follows the run.

Regenerate with `uv run pytest tests/tui/test_snapshots_events.py --snapshot-update`, then look
at the SVGs in tests/tui/__snapshots__/ before committing them."""

from __future__ import annotations

from typing import Any

import pytest
from events_fixtures import stream
from screens_fixtures import FakeEngine, ScreenApp, completed_run
from textual.pilot import Pilot

from crewdash.aop.models import RunState
from crewdash.tui.screens.run_detail import RunDetailScreen

SIZE = (120, 36)
HOOKS = {"step_url": "http://127.0.0.1:8765/hooks/research/step/x"}

pytestmark = pytest.mark.usefixtures("utc")


class EventsApp(ScreenApp):
    def __init__(self, *, events: bool, receiver: bool) -> None:
        engine = FakeEngine(
            [
                completed_run(
                    state=RunState.RUNNING,
                    raw_state="RUNNING",
                    result=None,
                    finished_at=None,
                    completed_tasks=1,
                    current_task="analyse",
                    webhooks=HOOKS if receiver else {},
                )
            ]
        )
        engine.receiver_url = "http://127.0.0.1:8765" if receiver else None
        if events:
            engine.events_by_run["run-1"] = stream()
        super().__init__(lambda: RunDetailScreen(engine, "run-1"))


async def _open_events(pilot: Pilot[None]) -> None:
    pilot.app.screen.query_one("#detail-tabs").active = "tab-events"
    await pilot.pause()
    pilot.app.screen.query_one("#events-list").focus()
    await pilot.pause()


def test_run_detail_events_timeline(snap_compare: Any) -> None:
    app = EventsApp(events=True, receiver=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_events)


def test_run_detail_event_raw(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _open_events(pilot)
        await pilot.press("home", "v")
        await pilot.pause()

    app = EventsApp(events=True, receiver=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_run_detail_events_only_polling(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#detail-tabs").active = "tab-events"
        await pilot.pause()

    app = EventsApp(events=False, receiver=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
