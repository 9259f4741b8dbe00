"""`RowCursorTable`: a DataTable whose lines cost what changed in them, with a row cursor.

DataTable keys every cached line on where the cursor is, so after each cursor move the next
frame that repainted rows changed far apart (the compositor renders every line between
them) rebuilt every one of them (~30 ms with 30 rows on screen: the tail of key-to-screen
with 2,000 live runs). Here, with a row cursor, a line is kept per (row, whether the cursor
or the hover is on it); a row's cells are kept per look and a changed cell is rendered again
alone; a one-line plain-text cell (a clock) is laid out without Rich; and the table's style
is read once a frame, not once a line. Its caches are emptied with DataTable's
(`_clear_caches`); `TargetedDataTable` (data_table.py) evicts a changed row's entries.

It rewrites DataTable internals of Textual 8.2 (pinned in pyproject.toml), each listed in
data_table.DATA_TABLE_INTERNALS and checked by tests/tui/test_textual_compat_data_table.py,
which also renders a stock DataTable beside it line for line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

CellType = TypeVar("CellType")

ROWS_KEPT = 512  # rows whose lines and cells are kept per look, then start again
LOOKS_KEPT = 8  # looks kept per row (cursor on or off, hover, older update counts)


@dataclass(slots=True)
class _RowCells:
    """One line of a row as DataTable renders it: its fixed cells' segments and its scrollable
    cells' (one list per column, then the padding to the table's width); `stale`: the columns
    changed since."""

    fixed: Any
    scrollable: list[Any]
    stale: set[ColumnKey] = field(default_factory=set)


class RowCursorTable(DataTable[CellType]):
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
        self._frame_style: Any = None  # the table's style while it renders (`render_line`)
        super().__init__(**kwargs)

    def render_lines(self, crop: Any) -> list[Strip]:
        self._pseudo_class_state = self.get_pseudo_class_state()  # as DataTable's render_lines
        self._frame_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None

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
        """DataTable's (fixed cells, scrollable cells) of one line of a row. With a row cursor
        the row's cells are kept per look, and a changed cell is rendered again alone: a clock
        ticking in every row on screen re-renders one cell per row, not every cell (and the
        row's styles) of every row (~0.55 ms a row, measured)."""
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
            line_no,
            index,
            self.size.width,
            base_style,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        looks = self._row_cells.get(row_key)
        if looks is None:
            if len(self._row_cells) >= ROWS_KEPT:
                self._row_cells.clear()
            looks = self._row_cells[row_key] = {}
        kept = looks.get(look)
        if kept is None:
            if len(looks) >= LOOKS_KEPT:
                looks.clear()
            fixed, scrollable = super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
            kept = looks[look] = _RowCells(fixed, list(scrollable))
        elif kept.stale:
            self._patch_cells(kept, index, line_no, base_style, cursor, hover)
        return kept.fixed, kept.scrollable

    def _patch_cells(
        self, kept: _RowCells, index: int, line_no: int, base_style: Any, cursor: bool, hover: bool
    ) -> None:
        """Render the changed cells of a kept row line again, as DataTable renders a row's."""
        row_style = self._row_style(index, base_style)
        columns = self.ordered_columns
        for column_key in kept.stale:
            column = self._column_locations.get(column_key)
            if column is None or column >= len(columns):
                continue
            width = columns[column].get_render_width(self)
            cell = self._render_cell(index, column, row_style, width, cursor, hover)
            kept.scrollable[column] = cell[line_no]
        kept.stale.clear()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """DataTable's, with a short way for the commonest cell: one line of plain text that
        fits (a clock, a status word). Its one segment is what Rich's Padding and Styled make
        of it once the line is simplified, built here (~0.3 ms a cell through Rich: most of a
        clock tick's cost)."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header, a row label
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is not None:
            return lines
        inner = width - 2 * self.cell_padding
        text = self._plain_line(row_key, column_key, inner)
        if text is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        style += component_style
        if post_style:
            style += post_style
        pad = " " * self.cell_padding
        lines = [[Segment(f"{pad}{text}{' ' * (inner - cell_len(text))}{pad}", style)]]
        self._cell_render_cache[key] = lines
        return lines

    def _plain_line(self, row_key: RowKey, column_key: ColumnKey, width: int) -> str | None:
        """The cell's text if it is one line of plain text (no style, no markup, left-aligned)
        in a one-line row, within `width` cells; else None."""
        value = self._data.get(row_key, {}).get(column_key)
        if (
            type(value) is Text
            and not value.spans
            and not value.style
            and value.justify in (None, "default", "left")
            and self.rows[row_key].height == 1
            and "\n" not in value.plain
            and "\t" not in value.plain
            and cell_len(value.plain) <= width
        ):
            return value.plain
        return None

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
        lines = self._row_lines.get(row_key)
        if lines is None:
            if len(self._row_lines) >= ROWS_KEPT:
                self._row_lines.clear()
            lines = self._row_lines[row_key] = {}
        line = lines.get(key)
        if line is None:
            if len(lines) >= LOOKS_KEPT:
                lines.clear()
            line = lines[key] = super()._render_line(y, x1, x2, base_style)
        return line

    def render_line(self, y: int) -> Strip:
        """DataTable's, with the table's style read once a frame (`render_lines`) instead of
        once a line (~0.25 ms each)."""
        style = self._frame_style
        if style is None or self.fixed_rows:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        if y >= (self.header_height if self.show_header else 0):
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + self.size.width, style)

    def _row_flags(self, row_key: RowKey) -> tuple[int, bool, bool]:
        """(the row's index, -1 for the header as DataTable numbers it; whether the cursor is
        on it; whether the hover is): all a line shows of the cursor, with a row cursor."""
        index = self._row_locations.get(row_key)
        row = -1 if index is None else index
        return row, self.cursor_coordinate.row == row, self.hover_coordinate.row == row
