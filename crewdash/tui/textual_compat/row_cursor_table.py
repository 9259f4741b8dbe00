"""`RowCursorTable`: a DataTable whose lines cost what changed in them, with a row cursor.

DataTable keys every cached line on where the cursor is, so after each cursor move the next
frame that repainted rows changed far apart (the compositor renders every line between
them) rebuilt every one of them (~30 ms with 30 rows on screen: the tail of key-to-screen
with 2,000 live runs). Here, with a row cursor, a line is kept per (row, whether the cursor
or the hover is on it); a row's cells are kept per look and a changed cell is rendered again
alone (a plain one, a clock, without Rich: `PlainCellTable`, plain_cells.py); and what every
line is rendered with (the table's style, the cursor, the column widths, the row under each
line) is read once a frame (`_Frame`), not once a line. Its caches are emptied with
DataTable's (`_clear_caches`); `TargetedDataTable` (data_table.py) evicts a changed row's
entries.

It rewrites DataTable internals of Textual 8.2 (pinned in pyproject.toml), each listed in
data_table.DATA_TABLE_INTERNALS and checked by tests/tui/test_textual_compat_data_table.py,
which also renders a stock DataTable beside it line for line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Any, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets.data_table import ColumnKey, RowKey

from crewdash.tui.textual_compat.plain_cells import PlainCellTable

CellType = TypeVar("CellType")

ROWS_KEPT = 512  # rows whose lines and cells are kept per look, then start again
LOOKS_KEPT = 8  # looks kept per row (cursor on or off, hover, older update counts)


Kept = TypeVar("Kept")


def _looks(cache: dict[RowKey, dict[Any, Kept]], row_key: RowKey) -> dict[Any, Kept]:
    """What `cache` keeps of a row, per look (all rows are let go past ROWS_KEPT)."""
    looks = cache.get(row_key)
    if looks is None:
        if len(cache) >= ROWS_KEPT:
            cache.clear()
        looks = cache[row_key] = {}
    return looks


def _keep(looks: dict[Any, Kept], key: Any, value: Kept) -> Kept:
    """Keep `value` as a row's look `key` (its other looks are let go past LOOKS_KEPT)."""
    if len(looks) >= LOOKS_KEPT:
        looks.clear()
    looks[key] = value
    return value


@dataclass(slots=True)
class _RowCells:
    """One line of a row as DataTable renders it: its fixed cells' segments and its scrollable
    cells' (one list per column, then the padding to the table's width); `stale`: the columns
    changed since."""

    fixed: Any
    scrollable: list[Any]
    stale: set[ColumnKey] = field(default_factory=set)
    # the scrollable cells' segments simplified one by one, as a line is (no two cells share a
    # style: each carries its row and column), once a `_Frame` joined them
    simple: list[list[Segment]] | None = None


@dataclass(slots=True)
class _Frame:
    """What every line of one frame is rendered with, read once (`render_lines`): reading
    DataTable's reactives and laying out its columns for each line was most of a line's cost."""

    style: Style  # the table's
    width: int
    x1: int  # horizontal scroll: the line's cells x1..x2
    x2: int
    scroll_y: int
    header: int  # lines of header on screen, at the top
    cursor_row: int
    hover_row: int
    y_offsets: list[tuple[RowKey, int]]  # per line of rows: (row key, line in the row)
    widths: dict[ColumnKey, int]  # each column's rendered width
    fits: bool  # the cells and the padding after them are exactly the line (no crop, no pad)
    # the look every kept line and cell of this frame shares (part of their cache keys)
    look: tuple[Any, ...]


class RowCursorTable(PlainCellTable[CellType]):
    """DataTable whose row-cursor lines and cells are kept per row and patched cell by cell."""

    def __init__(self, **kwargs: Any) -> None:
        # with a row cursor: row key -> (y, x1, x2, width, cursor on it, hover on it, cursor
        # shown, hover shown, style, update count, pseudo classes) -> the line (see
        # `_render_line`); made first, as DataTable's __init__ clears the caches
        self._row_lines: dict[RowKey, dict[tuple[Any, ...], Strip]] = {}
        # with a row cursor: row key -> (its look: line, style, cursor/hover on it, ...) ->
        # its cells' segments, patched cell by cell (see `_render_line_in_row`)
        self._row_cells: dict[RowKey, dict[tuple[Any, ...], _RowCells]] = {}
        self._row_styles: dict[tuple[Any, ...], Any] = {}  # see `_row_style`
        self._frame: _Frame | None = None  # while it renders with a row cursor (`render_line`)
        super().__init__(**kwargs)

    def render_lines(self, crop: Any) -> list[Strip]:
        self._pseudo_class_state = self.get_pseudo_class_state()  # as DataTable's render_lines
        self._frame = self._new_frame()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _new_frame(self) -> _Frame | None:
        """This frame's `_Frame`, or None where DataTable's own way renders every line: no row
        cursor, fixed rows or columns, row labels shown."""
        if (
            self.cursor_type != "row"
            or self.fixed_rows
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return None
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        style = self.rich_style
        widths = {column.key: column.get_render_width(self) for column in self.columns.values()}
        return _Frame(
            style=style,
            width=width,
            x1=scroll_x,
            x2=scroll_x + width,
            scroll_y=scroll_y,
            header=self.header_height if self.show_header else 0,
            cursor_row=self.cursor_coordinate.row,
            hover_row=self.hover_coordinate.row,
            y_offsets=self._y_offsets,
            widths=widths,
            fits=not self._row_label_column_width and sum(widths.values()) <= width,
            look=(
                width,
                style,
                self.show_cursor,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            ),
        )

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_lines.clear()
        self._row_cells.clear()
        self._row_styles.clear()

    def _row_style(self, index: int, base_style: Any) -> Any:
        """`_get_row_style`, remembered: it reads component styles (~0.1 ms a row) whose
        answer changes only with the table's look, which clears this (`_clear_caches`)."""
        kind = -1 if index < self.fixed_rows else (index % 2 if self.zebra_stripes else 2)
        key = (kind, base_style, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = self._get_row_style(index, base_style)
        return style

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Any,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[Any, Any]:
        """DataTable's (fixed cells, scrollable cells) of one line of a row; with a row cursor,
        kept (`_kept_cells`)."""
        index, cursor, hover = self._row_flags(row_key)
        if (
            index < 0  # the header
            or self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        look = (
            self.size.width,
            base_style,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        kept = self._kept_cells(row_key, line_no, index, cursor, hover, look, base_style, None)
        return kept.fixed, kept.scrollable

    def _kept_cells(
        self,
        row_key: RowKey,
        line_no: int,
        index: int,
        cursor: bool,
        hover: bool,
        look: tuple[Any, ...],
        base_style: Any,
        widths: dict[ColumnKey, int] | None,
    ) -> _RowCells:
        """A row line's cells, kept per look, a changed cell rendered again alone: a clock
        ticking in every row on screen re-renders one cell per row, not every cell (and the
        row's styles) of every row (~0.55 ms a row, measured). `look`: as `_Frame.look`."""
        key = (line_no, index, cursor, hover, look)
        looks = _looks(self._row_cells, row_key)
        kept = looks.get(key)
        if kept is None:
            fixed, scrollable = super()._render_line_in_row(
                row_key, line_no, base_style, self.cursor_coordinate, self.hover_coordinate
            )
            kept = _keep(looks, key, _RowCells(fixed, list(scrollable)))
        elif kept.stale:
            self._patch_cells(kept, index, line_no, base_style, cursor, hover, widths)
        return kept

    def _patch_cells(
        self,
        kept: _RowCells,
        index: int,
        line_no: int,
        base_style: Any,
        cursor: bool,
        hover: bool,
        widths: dict[ColumnKey, int] | None,
    ) -> None:
        """Render the changed cells of a kept row line again, as DataTable renders a row's."""
        row_style = self._row_style(index, base_style)
        for column_key in kept.stale:
            column = self._column_locations.get(column_key)
            if column is None or column >= len(kept.scrollable) or column_key not in self.columns:
                continue
            width = (widths or {}).get(column_key)
            if width is None:
                width = self.columns[column_key].get_render_width(self)
            cell = self._render_cell(index, column, row_style, width, cursor, hover)
            kept.scrollable[column] = cell[line_no]
            if kept.simple is not None:
                kept.simple[column] = list(Segment.simplify(cell[line_no]))
        kept.stale.clear()

    def _render_line(self, y: int, x1: int, x2: int, base_style: Any) -> Strip:
        """DataTable's line, cached by whether the row cursor (or hover) is on its row rather
        than by where the cursor is: with a row cursor a line shows nothing else of it."""
        if self.cursor_type != "row":
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, _ = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        _, cursor, hover = self._row_flags(row_key)
        key = (
            y,
            x1,
            x2,
            self.size.width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            base_style,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = _looks(self._row_lines, row_key)
        line = lines.get(key)
        if line is None:
            line = _keep(lines, key, super()._render_line(y, x1, x2, base_style))
        return line

    def render_line(self, y: int) -> Strip:
        """DataTable's line; with a row cursor, read from this frame's `_Frame` and kept per
        (row, line, cursor and hover on it, look) (~0.1 ms a line of reactives and column
        layout, measured, most of what a clock tick cost per row)."""
        frame = self._frame
        if frame is None:
            return super().render_line(y)
        if y < frame.header or frame.x1:  # the header, or scrolled sideways: DataTable's way
            if y >= frame.header:
                y += frame.scroll_y
            return self._render_line(y, frame.x1, frame.x2, frame.style)
        line_y = y + frame.scroll_y
        try:
            row_key, line_no = frame.y_offsets[line_y - frame.header]
        except IndexError:
            return Strip.blank(frame.width, frame.style)  # below the last row
        index = self._row_locations.get(row_key)
        if index is None:
            return super().render_line(y)
        cursor, hover = index == frame.cursor_row, index == frame.hover_row
        key = (line_y, cursor, hover, frame.look)
        lines = _looks(self._row_lines, row_key)
        line = lines.get(key)
        if line is None:
            kept = self._kept_cells(
                row_key, line_no, index, cursor, hover, frame.look, frame.style, frame.widths
            )
            line = _keep(lines, key, self._joined(kept, frame))
        return line

    @staticmethod
    def _joined(kept: _RowCells, frame: _Frame) -> Strip:
        """The line of a row's kept cells, as DataTable joins one with no fixed cells,
        unscrolled (no crop): simplified, padded or cut to the width."""
        if kept.simple is None:
            kept.simple = [list(Segment.simplify(cell)) for cell in kept.scrollable]
        segments = list(chain.from_iterable(kept.simple))
        if frame.fits:
            return Strip(segments, frame.width)
        return Strip(segments).adjust_cell_length(frame.width, frame.style).simplify()

    def _row_flags(self, row_key: RowKey) -> tuple[int, bool, bool]:
        """(the row's index, -1 for the header as DataTable numbers it; whether the cursor is
        on it; whether the hover is): all a line shows of the cursor, with a row cursor."""
        index = self._row_locations.get(row_key)
        row = -1 if index is None else index
        return row, self.cursor_coordinate.row == row, self.hover_coordinate.row == row
