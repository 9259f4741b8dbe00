"""`PlainCellTable`: a DataTable that lays out a plain one-line cell without Rich, and finds a
changed cell's cached renders without a pass over its whole cell cache.

Its parts rewrite DataTable internals of Textual 8.2 (pinned in pyproject.toml), each listed
in data_table.DATA_TABLE_INTERNALS and checked by tests/tui/test_textual_compat_data_table.py,
which also renders a stock DataTable beside it line for line. `RowCursorTable`
(row_cursor_table.py) builds on it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

CellType = TypeVar("CellType")

CELL_KEYS_KEPT = 20_000  # cell render keys noted before the index is made again (cache: 10,000)
STYLES_KEPT = 8192  # plain cells' styles kept (per row and column on screen, and look)


class PlainCellTable(DataTable[CellType]):
    """DataTable whose plain cells skip Rich and whose cell renders are indexed by cell."""

    def __init__(self, **kwargs: Any) -> None:
        # made first, as DataTable's __init__ clears the caches
        self._cell_styles: dict[tuple[Any, ...], Style] = {}  # see `_cell_style`
        # (row key, column key) -> its renders' keys in DataTable's cell cache
        self._cell_keys: dict[tuple[RowKey, ColumnKey], list[tuple[Any, ...]]] = {}
        self._cell_keys_noted = 0  # keys noted since the index was made
        super().__init__(**kwargs)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_styles.clear()
        self._cell_keys.clear()
        self._cell_keys_noted = 0

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
        self._index_cell_render(key)
        inner = width - 2 * self.cell_padding
        text = self._plain_line(row_key, column_key, inner)
        if text is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        style = self._cell_style(row_index, column_index, base_style, cursor, hover)
        pad = " " * self.cell_padding
        lines = [[Segment(f"{pad}{text}{' ' * (inner - cell_len(text))}{pad}", style)]]
        self._cell_render_cache[key] = lines
        return lines

    def _index_cell_render(self, key: tuple[Any, ...]) -> None:
        """Note a data cell's render cache key under its cell, for `_drop_cell_renders`. Keys
        the cache has since let go stay until their cell changes; past CELL_KEYS_KEPT the
        index is made again from the cache (one pass over it)."""
        self._cell_keys.setdefault((key[0], key[1]), []).append(key)
        self._cell_keys_noted += 1
        if self._cell_keys_noted > CELL_KEYS_KEPT:
            self._cell_keys.clear()
            for kept in self._cell_render_cache.keys():  # noqa: SIM118 (an LRUCache)
                self._cell_keys.setdefault((kept[0], kept[1]), []).append(kept)
            self._cell_keys_noted = len(self._cell_render_cache)

    def _drop_cell_renders(self, cells: set[tuple[RowKey, ColumnKey]]) -> None:
        """Drop the cached renders of these cells (not a pass over the whole cache: ~2,000
        keys at 100 runs, most of a clock tick's eviction)."""
        cache = self._cell_render_cache
        for cell in cells:
            for key in self._cell_keys.pop(cell, ()):
                cache.discard(key)

    def _cell_style(
        self, row_index: int, column_index: int, base_style: Any, cursor: bool, hover: bool
    ) -> Style:
        """A plain cell's style, as DataTable's `_render_cell` makes it, remembered: a clock's
        style stays while its words change each second (component styles are read anew
        after the table's look changed, which clears this: `_clear_caches`)."""
        key = (
            row_index,
            column_index,
            base_style,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        style: Style | None = self._cell_styles.get(key)
        if style is not None:
            return style
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
        if len(self._cell_styles) >= STYLES_KEPT:
            self._cell_styles.clear()
        self._cell_styles[key] = style
        return style

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
