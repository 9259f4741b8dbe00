"""What the `crewdash` command does around the dashboard's first frame: the garbage collector
is off while start-up builds objects that all stay, and comes back once the frame is shown."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from crewdash.commands.dashboard import collect_from_now_on
from crewdash.tui.app import CrewdashApp
from tests.tui.test_app_shell import T0, make_engine, settle


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


async def test_the_app_calls_after_first_frame_once_its_first_frame_is_shown(
    tmp_path: Path,
) -> None:
    calls: list[int] = []
    app = CrewdashApp(
        make_engine(),  # type: ignore[arg-type]
        now=lambda: T0,
        data_dir=tmp_path,
        after_first_frame=lambda: calls.append(len(app.screen.walk_children())),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.pause()
        # once, and only when the main screen's widgets were there to be painted
        assert len(calls) == 1 and calls[0] > 5


def test_collection_resumes_after_the_first_frame_with_start_up_objects_frozen(
    gc_restored: None,
) -> None:
    gc.disable()
    alive = [object() for _ in range(10)]
    collect_from_now_on()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(alive)


def test_the_app_and_its_first_frame_widgets_import_no_records_nor_health_probe() -> None:
    """The first frame has no runs, requests or latencies: their classes are built later."""
    import subprocess
    import sys

    code = (
        "import sys, crewdash.core.config.load, crewdash.tui.app, crewdash.tui.engine_handle, "
        "crewdash.tui.format, crewdash.tui.widgets.crew_pane, crewdash.tui.widgets.status_bar; "
        "print(sorted(m for m in ('crewdash.aop.records', 'crewdash.core.records', "
        "'crewdash.core.monitor.probe') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
