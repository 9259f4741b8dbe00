"""Regenerate screenshots/*.svg (shown in the README) from the snapshot tests' apps, at
120x36 with frozen time (UTC) and fixed ids: `uv run python scripts/screenshots.py`."""

from __future__ import annotations

import asyncio
import os
import sys
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
    "human-input": (_human_input, _still),
    "human-input-flow": (_flow_input, _still),
    "inbox": (_inbox, _still),
    "filter": (main_app, filtered),
    "help": (main_app, help_open),
    "palette": (main_app, _palette),
    "first-run": (first_run_app, settle),
    "resolve-unknown": (_resolve_unknown, _still),
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
    for name in SHOTS:
        print(await shoot(name))


if __name__ == "__main__":
    asyncio.run(main())
