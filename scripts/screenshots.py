"""Regenerate screenshots/*.svg (shown in the README) from the snapshot tests' apps, at
120x36 with frozen time (UTC) and fixed ids: `uv run python scripts/screenshots.py`."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from tests.tui.screens_fixtures import (  # noqa: E402
    FakeEngine,
    ScreenApp,
    completed_run,
    crew_request,
    flow_request,
)
from tests.tui.shell_apps import (  # noqa: E402
    filling,
    filtered,
    first_run_app,
    help_open,
    main_app,
    no_blink,
    settle,
)
from tests.tui.trends_apps import trends_app, trends_loaded, trends_open  # noqa: E402

SIZE = (120, 36)
OUT = ROOT / "screenshots"


async def _still(pilot: Any) -> None:
    no_blink(pilot.app)
    await pilot.pause()


async def _tasks(pilot: Any) -> None:
    pilot.app.screen.query_one("#detail-tabs").active = "tab-tasks"
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()  # the tab underline slides: shoot it at rest


def _human_input() -> Any:
    from crewdash.tui.screens.human_input import HumanInputModal

    return ScreenApp(lambda: HumanInputModal(FakeEngine(), crew_request()))


def _flow_input() -> Any:
    from crewdash.tui.screens.human_input import HumanInputModal

    return ScreenApp(lambda: HumanInputModal(FakeEngine(), flow_request()))


def _detail() -> Any:
    from crewdash.tui.screens.run_detail import RunDetailScreen

    engine = FakeEngine([completed_run()])
    return ScreenApp(lambda: RunDetailScreen(engine, "run-1"))


def _events() -> Any:
    from events_fixtures import stream

    from crewdash.aop.models import RunState
    from crewdash.tui.screens.run_detail import RunDetailScreen

    running = completed_run(
        state=RunState.RUNNING,
        raw_state="RUNNING",
        result=None,
        finished_at=None,
        completed_tasks=1,
        current_task="analyse",
        webhooks={"step_url": "http://127.0.0.1:8765/hooks/research/step/x"},
    )
    engine = FakeEngine([running])
    engine.receiver_url = "http://127.0.0.1:8765"
    engine.events_by_run["run-1"] = stream()
    return ScreenApp(lambda: RunDetailScreen(engine, "run-1"))


async def _events_tab(pilot: Any) -> None:
    pilot.app.screen.query_one("#detail-tabs").active = "tab-events"
    await pilot.pause()
    pilot.app.screen.query_one("#events-list").focus()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


def _inbox() -> Any:
    from crewdash.tui.screens.inbox import InboxScreen

    engine = FakeEngine(requests=[crew_request(), flow_request()])
    return ScreenApp(lambda: InboxScreen(engine))


def _resolve_unknown() -> Any:
    from crewdash.core.models import KickoffPhase
    from crewdash.core.runs.resolve import DUPLICATE_RISK
    from crewdash.tui.screens.resolve_unknown import ResolveUnknownModal

    lost = completed_run(
        phase=KickoffPhase.UNKNOWN,
        kickoff_id=None,
        result=None,
        finished_at=None,
        error="the connection dropped after the request was sent: it may have started a run",
    )
    return ScreenApp(lambda: ResolveUnknownModal(lost, DUPLICATE_RISK))


def _audit() -> Any:
    import tempfile

    from test_snapshots_audit import StoreAudit, audit_story

    from crewdash.tui.screens.audit import AuditScreen

    store = audit_story(Path(tempfile.mkdtemp()) / "runs.sqlite3")  # a real store, kept
    return ScreenApp(lambda: AuditScreen(StoreAudit(store)))


def _trends() -> Any:
    """The sample dashboard on a store seeded with a week of runs (a throwaway file)."""
    return trends_app(Path(tempfile.mkdtemp(prefix="crewdash-shots-")) / "runs.sqlite3")


def _diff() -> Any:
    from diff_fixtures import DiffApp

    return DiffApp()


async def _palette(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("ctrl+p", *"sort")
    await pilot.pause(0.3)


SHOTS: dict[str, tuple[Callable[[], Any], Callable[[Any], Awaitable[None]]]] = {
    "main": (main_app, settle),
    "new-run": (main_app, filling),
    "run-detail": (_detail, _still),
    "run-tasks": (_detail, _tasks),
    "run-events": (_events, _events_tab),
    "human-input": (_human_input, _still),
    "human-input-flow": (_flow_input, _still),
    "inbox": (_inbox, _still),
    "filter": (main_app, filtered),
    "help": (main_app, help_open),
    "palette": (main_app, _palette),
    "first-run": (first_run_app, settle),
    "resolve-unknown": (_resolve_unknown, _still),
    "audit": (_audit, _still),
    "crew-sparklines": (_trends, trends_loaded),
    "crew-trends": (_trends, trends_open),
    "run-diff": (_diff, _still),
}


async def shoot(name: str) -> Path:
    make, before = SHOTS[name]
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await before(pilot)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name in sys.argv[1:] or SHOTS:  # some names, or every shot
        print(await shoot(name))


if __name__ == "__main__":
    asyncio.run(main())
