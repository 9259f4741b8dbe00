"""Snapshots of engineer B's screens at 120x36 with frozen time (UTC, `NOW`) and fixed ids.

Regenerate with `uv run pytest tests/tui/test_snapshots_screens.py --snapshot-update`, then look
at the SVGs in tests/tui/__snapshots__/ before committing them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from screens_fixtures import FakeEngine, ScreenApp, completed_run, crew_request, flow_request
from test_form import SPECS, FormApp
from textual.pilot import Pilot

from crewdash.aop.models import RunState
from crewdash.tui.screens.confirm import ConfirmModal
from crewdash.tui.screens.human_input import HumanInputModal
from crewdash.tui.screens.inbox import InboxScreen
from crewdash.tui.screens.run_detail import RunDetailScreen
from tests.tui.shell_apps import no_blink

SIZE = (120, 36)

JSON_OUTPUT = json.dumps(
    {
        "title": "Agent frameworks",
        "score": 0.92,
        "tags": ["crews", "graphs", "flows"],
        "sections": [{"heading": "Intro", "words": 120}, {"heading": "Body", "words": 900}],
        "published": False,
        "editor": None,
    }
)

ERROR = (
    "Task 'analyse' failed: the LLM call timed out after 3 retries.\n"
    "Traceback (most recent call last):\n"
    '  File "crew.py", line 12, in run\n'
    "    result = agent.execute(task)\n"
    "TimeoutError: no answer in 600 s"
)


pytestmark = pytest.mark.usefixtures("utc")


class DetailApp(ScreenApp):
    def __init__(self, **changes: Any) -> None:
        engine = FakeEngine([completed_run(**changes)])
        super().__init__(lambda: RunDetailScreen(engine, "run-1"))


def test_form_every_field_type_with_an_error(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        no_blink(app)
        form = app.query_one("#form")
        age = form.field("age").editor
        age.focus()
        age.value = "twelve"
        form.field("filters").editor.load_text('{"lang": "en"}')
        await pilot.pause()

    app = FormApp(SPECS, presets={"quick check": {"topic": "robots", "age": 1}})
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_form_raw_json_mode(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        no_blink(pilot.app)
        await pilot.press("ctrl+t")
        no_blink(pilot.app)
        await pilot.pause()

    assert snap_compare(FormApp(SPECS), terminal_size=SIZE, run_before=run_before)


def test_run_detail_completed_markdown(snap_compare: Any) -> None:
    assert snap_compare(DetailApp(), terminal_size=SIZE)


def test_run_detail_tasks_timeline(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#detail-tabs").active = "tab-tasks"
        await pilot.pause()

    assert snap_compare(DetailApp(), terminal_size=SIZE, run_before=run_before)


def test_run_detail_json_output(snap_compare: Any) -> None:
    assert snap_compare(DetailApp(output=JSON_OUTPUT), terminal_size=SIZE)


def test_run_detail_error(snap_compare: Any) -> None:
    app = DetailApp(
        state=RunState.ERROR, raw_state="FAILED", result=None, error=ERROR, completed_tasks=1
    )
    assert snap_compare(app, terminal_size=SIZE)


def test_human_input_crew(snap_compare: Any) -> None:
    app = ScreenApp(lambda: HumanInputModal(FakeEngine(), crew_request()))
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: no_blink(pilot.app))


def test_human_input_flow(snap_compare: Any) -> None:
    app = ScreenApp(lambda: HumanInputModal(FakeEngine(), flow_request()))
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: no_blink(pilot.app))


def test_inbox(snap_compare: Any) -> None:
    engine = FakeEngine(requests=[crew_request(), flow_request()])
    assert snap_compare(ScreenApp(lambda: InboxScreen(engine)), terminal_size=SIZE)


def test_confirm_modal(snap_compare: Any) -> None:
    app = ScreenApp(
        lambda: ConfirmModal(
            "Stop run 6f1c2a9e of research?",
            confirm_label="Stop run",
            danger=True,
            detail="The deployment cancels the run; its work so far is lost.",
        )
    )
    assert snap_compare(app, terminal_size=SIZE)


def test_resolve_unknown_kickoff(snap_compare: Any) -> None:
    from crewdash.core.models import KickoffPhase
    from crewdash.core.runs.resolve import DUPLICATE_RISK
    from crewdash.tui.screens.resolve_unknown import ResolveUnknownModal

    lost = completed_run(
        phase=KickoffPhase.UNKNOWN,
        kickoff_id=None,
        state=RunState.PENDING,
        raw_state="pending",
        result=None,
        finished_at=None,
        error="the connection dropped after the request was sent: it may have started a run",
    )
    app = ScreenApp(lambda: ResolveUnknownModal(lost, DUPLICATE_RISK))
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: no_blink(pilot.app))
