"""RunsTable with more runs than fit: a change to a row off screen costs next to nothing at
the flush and is painted when the row scrolls into view; filter and sort still see it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.geometry import Region

from crewdash.core.models import RunChanged
from crewdash.tui.widgets import runs_table
from tests.tui.test_app_shell import dashboard, make_run, visible_ids

RUNS = 120  # the table shows about 30 at 120x36


def many_runs() -> list[Any]:
    return [make_run(i) for i in range(RUNS)]


async def test_an_off_screen_change_is_painted_when_its_row_scrolls_into_view(
    tmp_path: Path, monkeypatch: object
) -> None:
    async with dashboard(tmp_path, many_runs()) as (pilot, app):
        engine, table = app.engine, app.main_screen.runs
        last = f"l{RUNS - 1}"  # the oldest: the bottom row, off screen
        assert table.get_row_index(last) > table.size.height

        rendered: list[str] = []
        original = runs_table.run_cells

        def counting(run, now, colors, *marked):  # type: ignore[no-untyped-def]
            rendered.append(run.local_id)
            return original(run, now, colors, *marked)

        monkeypatch.setattr(runs_table, "run_cells", counting)  # type: ignore[attr-defined]
        engine.publish(RunChanged(make_run(RUNS - 1, current_task="late_task")))
        await pilot.pause()
        table.flush()
        assert rendered == []  # off screen, no filter: nothing built for it yet

        table.move_cursor(row=table.get_row_index(last), animate=False)
        await pilot.pause()
        await pilot.pause()
        assert rendered == [last]
        assert table.get_cell(last, "task").plain == "late_task"
        lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
        assert any("late_task" in line.text for line in lines)


async def test_with_a_filter_an_off_screen_change_still_moves_the_row_in_or_out(
    tmp_path: Path,
) -> None:
    async with dashboard(tmp_path, many_runs()) as (pilot, app):
        engine, table = app.engine, app.main_screen.runs
        table.set_filter("!late_task")
        assert table.row_count == RUNS
        engine.publish(RunChanged(make_run(RUNS - 1, current_task="late_task")))
        await pilot.pause()
        table.flush()
        assert table.row_count == RUNS - 1
        assert f"l{RUNS - 1}" not in visible_ids(table)


async def test_an_off_screen_change_of_the_sort_column_reorders_at_the_flush(
    tmp_path: Path,
) -> None:
    async with dashboard(tmp_path, many_runs()) as (pilot, app):
        engine, table = app.engine, app.main_screen.runs
        table.sort_by("task")  # every task is research_task: ties
        engine.publish(RunChanged(make_run(RUNS - 1, current_task="aaa_first")))
        await pilot.pause()
        table.flush()
        assert visible_ids(table)[0] == f"l{RUNS - 1}"


async def test_a_filter_that_hides_many_rows_keeps_the_others_in_order(tmp_path: Path) -> None:
    runs = [make_run(i, "research" if i % 3 else "writer") for i in range(RUNS)]
    async with dashboard(tmp_path, runs) as (pilot, app):
        table = app.main_screen.runs
        table.move_cursor(row=5, animate=False)
        table.set_filter("writer")
        await pilot.pause()
        expected = [f"l{i}" for i in range(RUNS) if i % 3 == 0]  # newest (lowest i) first
        assert visible_ids(table) == expected
        assert table.get_cell(expected[-1], "crew").plain == "writer"
        assert 0 <= table.cursor_row < len(expected) and table.selected_local_id in expected
        table.set_filter("")
        await pilot.pause()
        assert visible_ids(table) == [f"l{i}" for i in range(RUNS)]


async def test_more_runs_than_fit_scroll_down_only_and_every_column_shows(tmp_path: Path) -> None:
    """At 120x36 the columns fit beside the vertical scrollbar: no horizontal scrollbar takes
    the last row (it did for one cell, with a scrollbar two cells wide)."""
    async with dashboard(tmp_path, many_runs()) as (pilot, app):
        table = app.main_screen.runs
        await pilot.pause()
        assert app.size == (120, 36)
        vertical, horizontal = table.scrollbars_enabled
        assert vertical and not horizontal
        assert table.virtual_size.width <= table.scrollable_content_region.width
