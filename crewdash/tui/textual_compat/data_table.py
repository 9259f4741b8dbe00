"""`TargetedDataTable`: a DataTable whose updates re-render only what changed.

Why (docs/field-notes.md#datatable-cost: a frame cost ~35 ms whatever changed): DataTable's
`update_cell` bumps `_update_count`, which is part of every render cache key, so one changed
cell re-rendered every visible cell through Rich. Here `update_cell` (and `update_cells`, for
a clock ticking in every row on screen: one refresh) keeps the counter and evicts only the
changed cells' cached renders, and repaints only their regions: a clock that ticks sends its
own few characters to the terminal, not its row. Likewise a focus change or a style update
that leaves the table looking the same keeps its caches, and `remove_rows` renumbers the rows
once, not once per removed row. How the lines themselves are kept and patched with a row
cursor is `RowCursorTable`'s (row_cursor_table.py).

All of it rewrites DataTable internals of Textual 8.2 (pinned in pyproject.toml). There is no
fallback: tests/tui/test_textual_compat.py checks every internal used here, so an upgrade that
changes one fails there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from textual import events
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import PseudoClasses, Widget
from textual.widgets.data_table import CellDoesNotExist, CellKey, ColumnKey, RowKey

from crewdash.tui.textual_compat.row_cursor_table import RowCursorTable

CellType = TypeVar("CellType")

#: every private attribute of DataTable used here, in row_cursor_table.py and plain_cells.py
#: (the test checks each one is there): the render caches keyed (row key, column key, ...) for
#: cells, (row key, ...) for row lines, (update count, row index) for a row's renderables, and
#: the per-line one
DATA_TABLE_INTERNALS = (
    "_cell_render_cache",
    "_row_render_cache",
    "_row_renderable_cache",
    "_line_cache",
    "_data",
    "_row_locations",
    "_column_locations",
    "_updated_cells",
    "_update_count",
    "_require_update_dimensions",
    "_clear_caches",
    "_on_focus",  # Widget's, overridden
    "_on_blur",
    "_render_line",  # (y, x1, x2, base_style) -> Strip, wrapped by a row cursor's line cache
    "_get_offsets",
    "_show_hover_cursor",
    "_pseudo_class_state",
    # (row key, line, style, cursor, hover) -> (fixed, scrollable cells' segment lines),
    # wrapped by a row cursor's per-cell patching
    "_render_line_in_row",
    "_render_cell",  # (row, column, style, width, cursor, hover) -> lines of segments
    "_get_row_style",  # (row index, base style) -> the row's style: fixed, zebra or base
    "_labelled_row_exists",
    "_get_cell_region",  # (coordinate) -> the cell's region in the table's virtual size
    "_row_label_column_width",
    "_get_styles_to_render_cell",  # (header?, label?, fixed?, hover, cursor, ...) -> styles
    "_y_offsets",  # per line of rows: (row key, line in the row), as `_get_offsets` reads it
)


class TargetedDataTable(RowCursorTable[CellType]):
    """DataTable with targeted cell updates, focus changes and bulk row removal.

    The table looks focused while the focus is anywhere in its parent (`looks_focused`), e.g.
    while the operator types in a filter beside it, styled by `:focus-within`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # cells whose cached renders are out of date
        self._stale_cells: set[tuple[RowKey, ColumnKey]] = set()
        self._look_check = False  # styles were updated: see `notify_style_update`
        self._look: tuple[Any, ...] | None = None
        self._painted_focused = False  # whether the last paint looked focused

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
        repaint: bool = True,
    ) -> None:
        """`DataTable.update_cell`, but only the cell's cached renders go stale.
        `repaint=False`: the caller is rendering already (no second frame)."""
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        self.update_cells([(row_key, column_key, value)], repaint=repaint)

    def update_cells(
        self,
        changes: Iterable[tuple[RowKey | str, ColumnKey | str, CellType]],
        *,
        repaint: bool = True,
    ) -> None:
        """`update_cell` for many cells, with one refresh of the changed cells on screen: a
        clock ticking in every row on screen marks its cells dirty at once (a refresh per
        cell cost ~0.1 ms each, most of it DataTable summing every row above for the cell's
        place)."""
        regions: list[Region] = []
        top = int(self.scroll_y)
        bottom = top + self.size.height
        places: dict[ColumnKey, tuple[int, int]] | None = None  # worked out once a call
        for row_key, column_key, value in changes:
            row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
            column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(f"No cell exists for {row_key!r}, {column_key!r}.")
            self._data[row_key][column_key] = value
            self._stale_cells.add((row_key, column_key))
            row = self._row_locations.get(row_key)
            # a cell off screen is evicted before the next render and painted when scrolled to
            if repaint and row is not None and top - 1 <= row <= bottom:
                places = places or self._column_places()
                regions.append(self._cell_region_on_screen(row_key, row, column_key, places))
        if regions:
            self.refresh(*regions)

    def _column_places(self) -> dict[ColumnKey, tuple[int, int]]:
        """Each column's (x, width) in a line of the table, as DataTable lays them out."""
        places: dict[ColumnKey, tuple[int, int]] = {}
        x = self._row_label_column_width
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            places[column.key] = (x, width)
            x += width
        return places

    def _cell_region_on_screen(
        self,
        row_key: RowKey,
        row: int,
        column_key: ColumnKey,
        places: dict[ColumnKey, tuple[int, int]],
    ) -> Region:
        """Where a cell is in the widget, as `refresh_coordinate` finds it; for a row one line
        high without DataTable summing the heights of every row above it."""
        place = places.get(column_key)
        if place is None or self.rows[row_key].height != 1 or self.fixed_rows:
            column = self._column_locations.get(column_key)
            return self._get_cell_region(Coordinate(row, column or 0)).translate(
                -self.scroll_offset
            )
        y = row + (self.header_height if self.show_header else 0)
        return Region(place[0], y, place[1], 1).translate(-self.scroll_offset)

    def _evict_stale_cells(self) -> None:
        """Drop the cached renders of the changed cells, and the row lines joined from them
        (cheap to join again: the row's other cells stay cached)."""
        cells, self._stale_cells = self._stale_cells, set()
        rows = {row for row, _ in cells}
        self._drop_cell_renders(cells)
        row_cache = self._row_render_cache
        for row_key in [k for k in row_cache.keys() if k[0] in rows]:  # noqa: SIM118 (not a dict)
            row_cache.discard(row_key)
        indexes = {self._row_locations.get(row) for row in rows}
        renderables = self._row_renderable_cache
        for index_key in [k for k in renderables.keys() if k[1] in indexes]:  # noqa: SIM118
            renderables.discard(index_key)
        self._line_cache.clear()  # lines are cheap to join again from the cached rows
        for row in rows:
            self._row_lines.pop(row, None)
        for row, column in cells:
            for kept in self._row_cells.get(row, {}).values():
                kept.stale.add(column)

    def remove_rows(self, row_keys: list[str]) -> None:
        """`remove_row` for many rows at once. DataTable renumbers every row on each removal
        (O(rows)), so a filter that hid 500 of 2,000 runs took ~370 ms; this renumbers once."""
        if len(row_keys) < 8:
            for row_key in row_keys:
                self.remove_row(row_key)
            return
        gone = {RowKey(row_key) for row_key in row_keys}
        keep = sorted(
            (index, key)
            for key in self._row_locations
            if key not in gone and (index := self._row_locations.get(key)) is not None
        )
        self._row_locations = TwoWayDict({key: n for n, (_, key) in enumerate(keep)})
        for key in gone:
            for column_key in self._data.get(key, {}):
                self._updated_cells.discard(CellKey(key, column_key))
            self.rows.pop(key, None)
            self._data.pop(key, None)
        self._stale_cells = {cell for cell in self._stale_cells if cell[0] not in gone}
        # what DataTable.remove_row does after the renumbering, once
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    # --- focus without a full repaint -----------------------------------------------------
    # Stock DataTable drops every cached cell on any style update and keys its caches on its
    # own focus, so focusing the filter beside it re-rendered every visible cell through Rich
    # (~30 ms) for a table that looked just the same; this checks, at the next render,
    # whether its look changed.

    @property
    def looks_focused(self) -> bool:
        focused = self.screen.focused if self.is_attached else None
        if focused is None:
            return False
        return focused is self or (self.parent is not None and self.parent in focused.ancestors)

    def _on_focus(self, event: events.Focus) -> None:
        self._focus_changed(event, True)

    def _on_blur(self, event: events.Blur) -> None:
        self._focus_changed(event, False)

    def _focus_changed(self, event: events.Focus | events.Blur, focused: bool) -> None:
        """Widget's own focus handler, minus its full repaint when the look stays the same."""
        event.prevent_default()
        self.has_focus = focused
        if self.looks_focused != self._painted_focused:
            self.refresh()
        if self.parent is not None:
            cls = events.DescendantFocus if focused else events.DescendantBlur
            self.parent.post_message(cls(self))

    def get_pseudo_class_state(self) -> PseudoClasses:
        return super().get_pseudo_class_state()._replace(focus=self.looks_focused)

    def notify_style_update(self) -> None:
        # Not DataTable's, which clears every cache. No refresh either: a style that really
        # changed has refreshed the table already (Textual refreshes on a changed rule or
        # component style), and a focus change that changed nothing must not repaint it.
        Widget.notify_style_update(self)
        self._look_check = True

    def _current_look(self) -> tuple[Any, ...]:
        """Everything DataTable's cached renders were made with."""
        components = sorted(self.COMPONENT_CLASSES)
        return (
            self.rich_style,
            self.styles.background_tint,
            *(self.get_component_rich_style(name, partial=True) for name in components),
            *(self.get_component_rich_style(name) for name in components),
        )

    def prepare_render(self) -> None:
        """Called before each render, after a changed look dropped the caches: a subclass
        brings rows up to date here (with `update_cell(..., repaint=False)`)."""

    def render_lines(self, crop: Any) -> list[Strip]:
        self._painted_focused = self.looks_focused
        if self._look_check:
            # component styles are final only after the update that called us: check now
            self._look_check = False
            look = self._current_look()
            if look != self._look:
                self._look = look
                self._stale_cells.clear()
                self._clear_caches()
        self.prepare_render()
        if self._stale_cells:
            self._evict_stale_cells()
        return super().render_lines(crop)
