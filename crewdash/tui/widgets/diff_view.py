"""The two columns of the run diff: A left, B right, scrolled together.

Built on Textual's Line API, for outputs thousands of lines long: a layout (at the first
size, and again on a resize) only measures the rows — a side that fits its column is one line,
only the few longer ones are wrapped then — and each frame renders just the lines on screen,
each once (cached until the next layout). Measured in tests/benchmarks/test_diff_bench.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from crewdash.tui.widgets.diff_rows import Row, Title

DIVIDER = " │ "
GUTTER = 2  # the cells of the mark each side of a row starts with (diff_rows.py)
_BLANK = -1  # the row index of the blank line above each title


class DiffView(ScrollView, can_focus=True):
    """Rows of a run diff (diff_rows.py) laid out in two columns with a divider."""

    DEFAULT_CSS = """
    DiffView { scrollbar-gutter: stable; height: 1fr; }
    """

    def __init__(self, rows: Sequence[Row], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = list(rows)
        self._width = -1  # the width the lines were laid out for
        self._columns = (0, 0)  # the widths of A's and B's columns
        self._index: list[tuple[int, int]] = []  # each line: (row, line of that row)
        self._wrapped: dict[tuple[int, int], list[Strip]] = {}  # (row, side): sides > 1 line
        self._rendered: dict[int, Strip] = {}
        self.titles: list[int] = []  # the line each title is on (n/p jump between them)

    def on_resize(self, event: Resize) -> None:
        self._lay_out(self.scrollable_content_region.width)

    def _lay_out(self, width: int) -> None:
        if width == self._width or width <= 0:
            return
        self._width = width
        left = max(1, (width - len(DIVIDER)) // 2)
        self._columns = (left, max(1, width - len(DIVIDER) - left))
        self._index, self._wrapped, self._rendered, self.titles = [], {}, {}, []
        for number, row in enumerate(self.rows):
            if isinstance(row, Title):
                if self._index:
                    self._index.append((_BLANK, 0))
                self.titles.append(len(self._index))
                height = self._height(number, 0, row.text, width, gutter=False)
            else:
                height = max(
                    self._height(number, 0, row.left, self._columns[0]),
                    self._height(number, 1, row.right, self._columns[1]),
                    1,
                )
            self._index.extend((number, line) for line in range(height))
        self.virtual_size = Size(width, len(self._index))
        self.refresh()

    def _height(self, row: int, side: int, text: Text, width: int, *, gutter: bool = True) -> int:
        """How many lines one side of a row takes; wrapped now only when over one line."""
        plain = text.plain
        if not plain:
            return 0
        if "\n" not in plain and cell_len(plain) <= width:
            return 1
        console = self.app.console
        if gutter:
            strips = _wrapped(console, text, width)
        else:
            strips = [_strip(console, line, width) for line in text.wrap(console, width)]
        self._wrapped[(row, side)] = strips
        return len(strips)

    def _side(self, row: int, side: int, text: Text, line: int, width: int) -> Strip:
        wrapped = self._wrapped.get((row, side))
        if wrapped is not None:
            return wrapped[line] if line < len(wrapped) else Strip.blank(width)
        if line or not text.plain:
            return Strip.blank(width)
        return _strip(self.app.console, text, width)

    def _line(self, index: int) -> Strip:
        """Laid-out line `index`, rendered at most once per layout."""
        rendered = self._rendered.get(index)
        if rendered is not None:
            return rendered
        number, line = self._index[index]
        if number == _BLANK:
            rendered = Strip.blank(self._width)
        elif isinstance(row := self.rows[number], Title):
            rendered = self._side(number, 0, row.text, line, self._width)
        else:
            left, right = self._columns
            rendered = Strip.join(
                [
                    self._side(number, 0, row.left, line, left),
                    Strip([Segment(DIVIDER, Style(dim=True))]),
                    self._side(number, 1, row.right, line, right),
                ]
            )
        self._rendered[index] = rendered
        return rendered

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self._width != width:
            self._lay_out(width)
        index = y + int(self.scroll_offset.y)
        if 0 <= index < len(self._index):
            return self._line(index).crop_extend(0, width, None)
        return Strip.blank(width)

    def line_text(self, index: int) -> str:
        """The words of laid-out line `index` (tests read the columns with it)."""
        return self._line(index).text

    @property
    def line_count(self) -> int:
        return len(self._index)

    def action_next_section(self) -> None:
        """Scroll to the next section (task, output) below the top line."""
        below = [t for t in self.titles if t > int(self.scroll_offset.y)]
        if below:
            self.scroll_to(y=below[0], animate=False)

    def action_previous_section(self) -> None:
        above = [t for t in self.titles if t < int(self.scroll_offset.y)]
        if above:
            self.scroll_to(y=above[-1], animate=False)


def _strip(console: Console, line: Text, width: int) -> Strip:
    """A line of text as a strip of `width` cells; `Text.render` leaves out the text's own
    style (the colour of a whole added or removed line), applied here beneath its spans."""
    strip = Strip(line.render(console))
    if line.style:
        strip = strip.apply_style(console.get_style(line.style))
    return strip.adjust_cell_length(width)


def _wrapped(console: Console, text: Text, width: int) -> list[Strip]:
    """One side of a row wrapped to its column, the lines after the first indented past the
    gutter mark (`GUTTER` cells: "- ", "+ ", "~ " or blank) so the mark stands alone."""
    gutter, body = text[:GUTTER], text[GUTTER:]
    lines = body.wrap(console, max(1, width - GUTTER)) if body.plain else [Text("")]
    return [
        _strip(console, (gutter if i == 0 else Text(" " * GUTTER)) + line, width)
        for i, line in enumerate(lines)
    ]
