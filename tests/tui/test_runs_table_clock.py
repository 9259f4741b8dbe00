"""The runs table's elapsed clocks (issue 17, "Repaint what changed"): a tick repaints only the
elapsed cells whose words changed, and an idle table wakes only when a clock on screen shows
other words ("3m 12s" each second, "2h 05m" each minute)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region

from crewdash.aop.models import RunState
from crewdash.core.models import RunChanged, RunRecord
from crewdash.tui.app import CrewdashApp
from crewdash.tui.widgets.runs_table import RunsTable
from tests.tui.test_app_shell import T0, make_engine, make_run, settle


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def aged(i: int, age: float, **changes: Any) -> RunRecord:
    """Run `l{i}`, started `age` seconds before T0."""
    return replace(make_run(i, **changes), created_at=T0 - age)


def count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[object]:
    """Each call of method `name` of `cls` (timers hold the method from the class) appends."""
    calls: list[object] = []
    original = getattr(cls, name)

    def counting(self: object) -> None:
        calls.append(self)
        original(self)

    monkeypatch.setattr(cls, name, counting)
    return calls


def shown(table: RunsTable) -> str:
    lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return "\n".join(line.text for line in lines)


async def test_a_tick_repaints_only_the_elapsed_cells_whose_words_changed(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    runs = [
        aged(0, 62),  # "1m 02s", "1m 15s": change each second
        aged(1, 75),
        aged(2, 2 * 3600 + 30),  # "2h 00m": not before a minute
        aged(3, 300, state=RunState.COMPLETED, finished_at=T0 - 100),  # final: no clock
    ]
    app = CrewdashApp(make_engine(runs), now=clock, data_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        await pilot.pause()
        assert table.get_cell("l0", "elapsed").plain == "1m 02s"
        refreshed: list[Region] = []
        original = table.refresh

        def spy(*regions: Region, **kw: Any) -> Any:
            refreshed.extend(regions or [Region(0, 0, 9999, 9999)])
            return original(*regions, **kw)

        table.refresh = spy  # type: ignore[method-assign]
        clock.now = T0 + 1
        table.flush()
        assert table.get_cell("l0", "elapsed").plain == "1m 03s"
        assert table.get_cell("l1", "elapsed").plain == "1m 16s"
        assert table.get_cell("l2", "elapsed").plain == "2h 00m"
        # two cells, each the width of the elapsed column (9), not two whole rows
        assert len(refreshed) == 2, refreshed
        assert {region.width for region in refreshed} == {9}
        table.refresh = original  # type: ignore[method-assign]
        screen_text = shown(table)
        assert "1m 03s" in screen_text and "1m 16s" in screen_text
        assert "1m 02s" not in screen_text

        refreshed.clear()
        table.refresh = spy  # type: ignore[method-assign]
        clock.now = T0 + 1.5  # the same words: nothing to repaint
        table.flush()
        assert refreshed == []


async def test_an_idle_table_wakes_only_when_a_clock_on_screen_changes_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = count_calls(monkeypatch, RunsTable, "flush")
    clock = Clock(T0)
    # "2h 00m" now, "2h 01m" 30 s from now; a finished run never ticks
    runs = [
        aged(0, 2 * 3600 + 30),
        aged(1, 400, state=RunState.COMPLETED, finished_at=T0 - 100),
    ]
    app = CrewdashApp(make_engine(runs), now=clock, data_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        await pilot.pause(0.1)
        flushes.clear()
        await pilot.pause(1.2)  # the old table flushed 4 times a second, whatever changed
        assert flushes == []
        assert table.clock_due == pytest.approx(T0 + 30)

        # a run whose clock shows seconds: the table wakes within a second
        app.engine.publish(RunChanged(aged(0, 61)))  # l0 restarted: "1m 01s"
        await pilot.pause(0.5)
        assert table.get_cell("l0", "elapsed").plain == "1m 01s"
        assert table.clock_due == pytest.approx(T0 + 1)


async def test_the_crew_counts_wake_for_a_change_not_four_times_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crewdash.tui.screens.main import MainScreen

    calls = count_calls(monkeypatch, MainScreen, "_flush_counts")
    engine = make_engine([make_run(1), make_run(2, "writer")])
    app = CrewdashApp(engine, now=lambda: T0, data_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.pause(0.4)
        calls.clear()
        await pilot.pause(0.6)  # the old screen counted every 0.25 s, whatever changed
        assert calls == []
        pane = app.main_screen.crews
        assert pane._counts["research"] == (1, 0)
        engine.publish(RunChanged(make_run(3)))  # a third run: research has 2 going
        await pilot.pause(0.5)
        assert len(calls) == 1 and pane._counts["research"] == (2, 0)
