"""The shell's apps with frozen time and fixed ids, shared by the snapshot tests and
`scripts/screenshots.py`: a main screen with a realistic mix of runs, the first-run screen."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.widgets import Input

from crewdash.aop.models import InputSpec, InputType, RunState
from crewdash.core.config.model import Config, CrewKind
from crewdash.core.models import CrewHealth, KickoffPhase, RunRecord
from crewdash.tui.app import CrewdashApp
from tests.tui.fake_engine import FakeEngine, crew

NOW = 1_767_225_600.0 + 14 * 3600 + 5 * 60  # 2026-01-01 14:05:00 UTC


def _run(n: int, crew_name: str, minutes_ago: float, **changes: Any) -> RunRecord:
    base = RunRecord(
        local_id=f"local-{n:02d}",
        crew=crew_name,
        inputs={"topic": "agents"},
        request_id=f"req-{n:02d}",
        created_at=NOW - minutes_ago * 60,
        phase=KickoffPhase.ACCEPTED,
        kickoff_id=f"{n:02d}c4e1b7-9f2a-4d1e-8b3c-5a6d7e8f9{n:03d}",
        state=RunState.RUNNING,
        raw_state="running",
        current_task="research_task",
        completed_tasks=1,
        total_tasks=3,
    )
    return replace(base, **changes)


def sample_runs() -> list[RunRecord]:
    done = {"finished_at": None}
    return [
        _run(1, "research", 0.5, current_task="gather_sources", completed_tasks=0),
        _run(
            2,
            "review",
            3,
            state=RunState.AWAITING_INPUT,
            raw_state="Pending Human Input",
            current_task="editorial_review",
            completed_tasks=1,
        ),
        _run(
            3,
            "research",
            9,
            state=RunState.COMPLETED,
            raw_state="SUCCESS",
            current_task=None,
            completed_tasks=3,
            finished_at=NOW - 6 * 60,
        ),
        _run(4, "approvals", 14, current_task="check_policy", offline_since=NOW - 120),
        _run(
            5,
            "research",
            22,
            state=RunState.ERROR,
            raw_state="FAILED",
            current_task="write_report",
            completed_tasks=2,
            finished_at=NOW - 20 * 60,
            error="LLM timeout",
        ),
        _run(6, "review", 31, current_task="draft_post", completed_tasks=0, stalled=True),
        _run(
            7,
            "research",
            47,
            state=RunState.STOPPED,
            raw_state="CANCELLED",
            completed_tasks=1,
            finished_at=NOW - 44 * 60,
        ),
        _run(
            8,
            "approvals",
            58,
            phase=KickoffPhase.REFUSED,
            kickoff_id=None,
            state=RunState.PENDING,
            current_task=None,
            completed_tasks=None,
            total_tasks=None,
            error="422: missing input amount",
            **done,
        ),
    ]


def sample_engine(runs: list[RunRecord] | None = None) -> FakeEngine:
    crews = {
        "research": replace(crew("research"), label="Market research"),
        "review": replace(crew("review"), label="Content review"),
        "approvals": replace(crew("approvals", CrewKind.FLOW), label="Expense approvals"),
    }
    engine = FakeEngine(Config(path=None, crews=crews), sample_runs() if runs is None else runs)
    engine.specs["research"] = [
        InputSpec("topic", InputType.STRING, description="What to research"),
        InputSpec("depth", InputType.INTEGER, required=False, default=2),
        InputSpec("audience", InputType.CHOICE, choices=("CTOs", "engineers", "everyone")),
    ]
    engine.health = {
        "research": (CrewHealth.OK, "ok"),
        "review": (CrewHealth.SLOW, "slow: answers take 2.4 s"),
        "approvals": (CrewHealth.OFFLINE, "crew offline since 14:03 (connection)"),
    }
    engine.latency = {"research": 0.012, "review": 2.4}
    return engine


def main_app() -> CrewdashApp:
    return CrewdashApp(sample_engine(), now=lambda: NOW)


def first_run_app() -> CrewdashApp:
    return CrewdashApp(FakeEngine(Config(path=None)), now=lambda: NOW)


async def settle(pilot: Any) -> None:
    """Engine started, form loaded, table painted, cursors still: ready for a picture."""
    from crewdash.tui.widgets.input_form import InputForm

    app = pilot.app
    main = app.main_screen
    if main is not None:
        await app.dashboard_ready.wait()
        for _ in range(200):
            if main.query(InputForm) and main.query(InputForm).first().specs:
                break
            await pilot.pause(0.01)
        main._flush_counts()
        main.runs.flush()
        main.runs.focus()
    no_blink(app)
    await pilot.pause()


def no_blink(app: Any) -> None:
    """Draw the current screen's text cursors solid: a blinking one differs run to run."""
    from textual.widgets import TextArea

    for widget in app.screen.query(Input).results():
        widget.cursor_blink = False
    for area in app.screen.query(TextArea).results():
        area.cursor_blink = False


async def filtered(pilot: Any) -> None:
    """The runs table filtered to every crew but research."""
    await settle(pilot)
    await pilot.press("slash", *"!research", "enter")
    await settle(pilot)


async def help_open(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def filling(pilot: Any) -> None:
    """Part-way through the form: a topic typed, the next field being edited."""
    await settle(pilot)
    await pilot.press("n", *"agent frameworks", "tab", "backspace", "9")
    no_blink(pilot.app)
    await pilot.pause()
