"""The two columns of the run diff: A left, B right, scrolled together.

Built on Textual's Line API: the rows are wrapped to the columns' width once per width (at the
first layout and on a resize), and each frame renders only the lines on screen, so a diff of
outputs thousands of lines long scrolls as fast as a short one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from crewdash.tui.widgets.diff_rows import Pair, Row, Title

DIVIDER = " │ "
GUTTER = 2  # the cells of the mark each side of a row starts with (diff_rows.py)


class DiffView(ScrollView, can_focus=True):
    """Rows of a run diff (diff_rows.py) laid out in two columns with a divider."""

    DEFAULT_CSS = """
    DiffView { scrollbar-gutter: stable; height: 1fr; }
    """

    def __init__(self, rows: Sequence[Row], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = list(rows)
        self._lines: list[Strip] = []
        self._width = -1  # the width the lines were laid out for
        self.titles: list[int] = []  # the line each title is on (for jumping between them)

    def on_resize(self, event: Resize) -> None:
        self._lay_out(self.scrollable_content_region.width)

    def _lay_out(self, width: int) -> None:
        if width == self._width or width <= 0:
            return
        self._width = width
        console = self.app.console
        column = max(1, (width - len(DIVIDER)) // 2)
        right_width = max(1, width - len(DIVIDER) - column)
        divider = Segment(DIVIDER, Style(dim=True))
        lines: list[Strip] = []
        self.titles = []
        for row in self.rows:
            if isinstance(row, Title):
                if lines:
                    lines.append(Strip.blank(width))
                self.titles.append(len(lines))
                for line in row.text.wrap(console, width):
                    lines.append(_strip(console, line, width))
                continue
            left = _wrapped(console, row.left, column)
            right = _wrapped(console, row.right, right_width)
            for i in range(max(len(left), len(right), 1)):
                a = left[i] if i < len(left) else Strip.blank(column)
                b = right[i] if i < len(right) else Strip.blank(right_width)
                lines.append(Strip.join([a, Strip([divider]), b]))
        self._lines = lines
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if self._width != self.scrollable_content_region.width:
            self._lay_out(self.scrollable_content_region.width)
        index = y + int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if 0 <= index < len(self._lines):
            return self._lines[index].crop_extend(0, width, None)
        return Strip.blank(width)

    def line_text(self, index: int) -> str:
        """The words of laid-out line `index` (tests read the columns with it)."""
        return self._lines[index].text

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def pair_count(self) -> int:
        return sum(1 for r in self.rows if isinstance(r, Pair))

    def action_next_section(self) -> None:
        """Scroll to the next section (task, output) below the top line."""
        top = int(self.scroll_offset.y)
        below = [t for t in self.titles if t > top]
        if below:
            self.scroll_to(y=below[0], animate=False)

    def action_previous_section(self) -> None:
        top = int(self.scroll_offset.y)
        above = [t for t in self.titles if t < top]
        if above:
            self.scroll_to(y=above[-1], animate=False)


def _strip(console: Console, line: Text, width: int) -> Strip:
    return Strip(line.render(console)).adjust_cell_length(width)


def _wrapped(console: Console, text: Text, width: int) -> list[Strip]:
    """One side of a row wrapped to its column, the lines after the first indented past the
    gutter mark (`GUTTER` cells: "- ", "+ ", "~ " or blank) so the mark stands alone."""
    if not text.plain:
        return []
    gutter, body = text[:GUTTER], text[GUTTER:]
    lines = body.wrap(console, max(1, width - GUTTER)) if body.plain else [Text("")]
    return [
        _strip(console, (gutter if i == 0 else Text(" " * GUTTER)) + line, width)
        for i, line in enumerate(lines)
    ]
