"""The diff screen's two columns: wrapping inside a column, jumping between sections, Esc."""

from __future__ import annotations

from diff_fixtures import DiffApp
from rich.text import Text
from textual.app import App, ComposeResult

from crewdash.tui.widgets.diff_rows import Pair, Title
from crewdash.tui.widgets.diff_view import DIVIDER, DiffView


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DiffView(
            [
                Title(Text("Section one")),
                Pair(Text("~ " + "alpha " * 8), Text("~ beta")),
                Title(Text("Section two")),
                Pair(Text(""), Text("+ added", style="green")),
            ]
        )


async def test_a_long_line_wraps_inside_its_column_past_the_gutter() -> None:
    app = ViewApp()
    async with app.run_test(size=(43, 12)) as pilot:
        await pilot.pause()
        view = app.query_one(DiffView)
        width = view.scrollable_content_region.width
        column = (width - len(DIVIDER)) // 2
        lines = [view.line_text(i) for i in range(view.line_count)]
        assert lines[0].rstrip() == "Section one"
        first, second = lines[1], lines[2]
        assert first[:column].startswith("~ alpha") and first[column:].startswith(DIVIDER)
        assert first[column + len(DIVIDER) :].rstrip() == "~ beta"
        assert second[:column].startswith("  alpha")  # under the words, not under the mark
        assert second[column + len(DIVIDER) :].strip() == ""
        assert lines[-1][column + len(DIVIDER) :].rstrip() == "+ added"
        assert lines[-1][:column].strip() == ""
        added = view.render_line(len(lines) - 1)  # scrolled to the top: the line itself
        colours = {
            s.style.color.name for s in added if s.style and s.style.color and s.text.strip()
        }
        assert colours == {"green"}  # a whole added line keeps its colour


async def test_n_and_p_jump_between_sections_and_esc_goes_back() -> None:
    app = DiffApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(DiffView)
        titles = view.titles
        assert len(titles) >= 5 and titles[0] == 0
        await pilot.press("n")
        await pilot.pause()
        assert view.scroll_offset.y == titles[1]
        assert view.line_text(titles[1]).startswith("Task research  changed")
        await pilot.press("n", "p")
        await pilot.pause()
        assert view.scroll_offset.y == titles[1]
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
