"""The filter line above the runs table: always there, `/` types in it, Esc leaves it; going
in and out repaints nothing in the table (it looks focused while its filter is)."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.widgets import Input

from crewdash.tui.screens.main import FILTER_IDLE, FILTER_TYPING
from tests.tui.test_app_shell import dashboard, make_run


async def test_slash_types_in_the_filter_and_esc_leaves_it_without_repainting_the_table(
    tmp_path: Path,
) -> None:
    async with dashboard(tmp_path, [make_run(i) for i in range(40)]) as (pilot, app):
        screen = app.main_screen
        table = screen.runs
        bar = screen.query_one("#filter", Input)
        table.focus()
        await pilot.pause()
        assert bar.display and bar.placeholder == FILTER_IDLE
        height = table.size.height

        cells = set(table._cell_render_cache.keys())
        assert cells
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused is bar and bar.placeholder == FILTER_TYPING
        assert table.looks_focused
        await pilot.press("e", "r", "r")
        await pilot.pause()
        assert table.filter_text == "err" and table.row_count == 0

        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is table and bar.value == "" and bar.placeholder == FILTER_IDLE
        assert table.row_count == 40 and table.size.height == height
        # neither focus change dropped the rendered cells (and rendered them all again)
        assert cells <= set(table._cell_render_cache.keys())


async def test_a_filter_kept_with_enter_stays_on_its_line_marked_active(tmp_path: Path) -> None:
    async with dashboard(tmp_path, [make_run(1), make_run(2, "writer")]) as (pilot, app):
        screen = app.main_screen
        bar = screen.query_one("#filter", Input)
        screen.runs.focus()
        await pilot.press("slash", "w", "r", "i", "t", "e", "r", "enter")
        await pilot.pause()
        assert app.focused is screen.runs
        assert bar.value == "writer" and bar.has_class("-active")
        assert screen.runs.row_count == 1


async def test_into_the_filter_repaints_nothing_but_to_the_crews_shows_the_table_unfocused(
    tmp_path: Path,
) -> None:
    async with dashboard(tmp_path, [make_run(i) for i in range(10)]) as (pilot, app):
        screen = app.main_screen
        table = screen.runs
        table.focus()
        await pilot.pause()
        cursor_line = Region(0, 1, table.size.width, 1)  # under the column titles

        def cursor_background() -> object:
            return table.render_lines(cursor_line)[0]._segments[0].style.bgcolor

        focused_look = cursor_background()
        refreshes: list[int] = []
        original = table.refresh

        def spy(*args: object, **kwargs: object) -> object:
            refreshes.append(1)
            return original(*args, **kwargs)  # type: ignore[arg-type]

        table.refresh = spy  # type: ignore[method-assign]
        await pilot.press("slash")
        await pilot.pause()
        await pilot.pause()
        assert refreshes == [] and cursor_background() == focused_look

        screen.crews.focus()
        await pilot.pause()
        await pilot.pause()
        assert app.focused is screen.crews, app.focused
        assert not table.looks_focused
        assert cursor_background() != focused_look
        assert refreshes
