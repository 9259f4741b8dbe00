"""The runs table: every run of every crew, live.

Cost matters (docs/field-notes.md#datatable-cost: a DataTable frame costs ~35 ms whatever
changed), so changes are only recorded when they arrive (`upsert`, O(1)) and applied 0.25 s
later by a one-shot timer: each changed row is rendered to cells, compared with what the table
holds, and only differing cells are written with `update_cell`, which re-renders only those
cells (`TargetedDataTable`, in textual_compat: it rewrites DataTable internals). The elapsed
clocks on screen wake it only when one shows other words (each second, minute or hour: issue
17); an idle table runs no timer. Rows are added or removed only when a run appears or the
filter changes; the table is never rebuilt. What each row shows is runs_cells.py.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist

from crewdash.tui.bindings import RUNS_BINDINGS
from crewdash.tui.format import DEFAULT_COLORS, next_midnight
from crewdash.tui.textual_compat.data_table import TargetedDataTable
from crewdash.tui.widgets.runs_cells import (
    COLUMN_KEYS,
    COLUMNS,
    elapsed_cell,
    elapsed_changes_at,
    header_label,
    matches,
    parse_filter,
    run_cells,
    sort_value,
)

if TYPE_CHECKING:  # the records load with the engine, after the first frame
    from crewdash.core.records import RunRecord

OFFSCREEN_BUDGET = 200  # off-screen rows brought up to date per flush


class RunsTable(TargetedDataTable[Text]):
    """All crews' runs merged; `upsert` records a change, the timer paints it."""

    BINDINGS: ClassVar[list[BindingType]] = list(RUNS_BINDINGS)  # a copy: the type is wider

    class RunSelected(Message):
        """The operator chose a run (Enter)."""

        def __init__(self, local_id: str) -> None:
            self.local_id = local_id
            super().__init__()

    class RowsChanged(Message):
        """Rows were added or removed (the screen says why an empty table is empty)."""

    class ViewChanged(Message):
        """Filter or sort changed (so the app can remember them)."""

        def __init__(self, filter_text: str, sort_column: str, sort_reverse: bool) -> None:
            self.filter_text = filter_text
            self.sort_column = sort_column
            self.sort_reverse = sort_reverse
            super().__init__()

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        colors: Callable[[], Mapping[str, str]] | None = None,
        repaint_interval: float = 0.25,
        tick_interval: float = 1.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self._now = now
        self._colors = colors or (lambda: DEFAULT_COLORS)
        self._repaint_interval = repaint_interval
        self._tick_interval = tick_interval
        self._records: dict[str, RunRecord] = {}
        self._cells: dict[str, dict[str, Text]] = {}  # what the table shows, per visible row
        self._dirty: set[str] = set()
        self.clock_due = 0.0  # when a clock on screen next shows other words (`now`'s time)
        self._day_ends = 0.0  # local midnight: "Start" shows a date for runs of another day
        self._timer: Timer | None = None  # the one wake-up pending, if any
        self._timer_at = math.inf  # when it fires (time.monotonic)
        self._flush_soon = False  # a wake-up for the changes recorded is pending
        self._live = False  # mounted: timers can be set
        self._viewport: tuple[int, int] = (-1, -1)  # (scroll_y, height) the clocks were for
        self.filter_text = ""
        self.sort_column = "started"
        self.sort_reverse = True
        self.paints = 0  # flushes that changed something: tests and benchmarks read it
        # rows off screen whose change is not in the table yet: painted when scrolled to
        self._unpainted: set[str] = set()
        self._sorted_by: dict[str, Any] = {}  # local_id -> its sort value when last placed
        self.marked: str | None = None  # the run marked for a diff (runs_mark.py)

    def on_mount(self) -> None:
        for column in COLUMNS:
            label = header_label(column, self.sort_column, self.sort_reverse)
            self.add_column(label, key=column.key, width=column.width)
        self._live = self._flush_soon = True
        self._wake(self._repaint_interval)

    def _wake(self, delay: float) -> None:
        """Flush in `delay` s, unless a flush comes sooner already. No timer ticks while
        nothing changes: the table wakes for a change, or when a clock on screen changes."""
        if not self._live:
            return  # on_mount wakes it
        at = time.monotonic() + delay
        if self._timer is not None:
            if self._timer_at <= at + 0.001:
                return
            self._timer.stop()
        self._timer_at = at
        # (Textual's timers take no 0)
        self._timer = self.set_timer(max(delay, 0.001), self._woken, name="runs-table-flush")

    def _woken(self) -> None:
        self._timer, self._timer_at = None, math.inf
        self.flush()

    # --- what the app calls ---------------------------------------------------------------

    def upsert(self, run: RunRecord) -> None:
        """Record a run's new state; painted at the next flush (coalesced)."""
        self._records[run.local_id] = run
        self._dirty.add(run.local_id)
        if not self._flush_soon:
            self._flush_soon = True
            self._wake(self._repaint_interval)

    def set_runs(self, runs: Iterable[RunRecord]) -> None:
        for run in runs:
            self.upsert(run)

    def record(self, local_id: str) -> RunRecord | None:
        return self._records.get(local_id)

    def records(self) -> list[RunRecord]:
        return list(self._records.values())

    @property
    def selected_local_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except (CellDoesNotExist, RowDoesNotExist):
            return None
        return row_key.value

    def set_filter(self, text: str) -> None:
        """Show only rows with `text` in any column (`!text`: rows without it)."""
        if text == self.filter_text:
            return
        self.filter_text = text
        self._dirty.update(self._records)
        self.flush()
        self._announce_view()

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column key; the same column again reverses the order."""
        if column not in COLUMN_KEYS:
            raise ValueError(f"no column {column!r}")
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse
        self._mark_sort()
        self._apply_sort()
        self._announce_view()

    def _mark_sort(self) -> None:
        """Put the sort mark on the sorted column's header (repainted by the sort that
        follows: DataTable.sort counts as an update, which renders the header again)."""
        for column in COLUMNS:
            key = ColumnKey(column.key)
            if key in self.columns:
                label = header_label(column, self.sort_column, self.sort_reverse)
                self.columns[key].label = Text(label)
        if not self.row_count:
            self.refresh()

    def restore_view(self, filter_text: str, sort_column: str, sort_reverse: bool) -> None:
        """Apply a remembered view without announcing it back."""
        self.filter_text = filter_text
        if sort_column in COLUMN_KEYS:
            self.sort_column, self.sort_reverse = sort_column, sort_reverse
            self._mark_sort()
        self._dirty.update(self._records)

    # --- painting -------------------------------------------------------------------------

    def prepare_render(self) -> None:
        if self._unpainted:
            self._paint_scrolled_into_view()
        if (int(self.scroll_y), self.size.height) != self._viewport:
            self._recheck_clocks()  # scrolled or resized: other rows' clocks are on screen

    def _recheck_clocks(self) -> None:
        """Bring the clocks on screen up to date at the next flush (rows moved)."""
        self.clock_due = 0.0
        self._wake(0.0)

    def _paint_scrolled_into_view(self) -> None:
        """Bring rows the flush left unpainted up to date once they are on screen."""
        now = self._now()
        colors = self._colors()
        for local_id in self._visible_ids() & self._unpainted:
            self._unpainted.discard(local_id)
            run = self._records[local_id]
            self._write_cells(local_id, run_cells(run, now, colors, self.marked), False)

    def _write_cells(self, local_id: str, cells: dict[str, Text], repaint: bool = True) -> None:
        """Write the cells that differ from what the row shows."""
        shown = self._cells[local_id]
        for key in COLUMN_KEYS:
            if cells[key] != shown[key]:
                self.update_cell(local_id, key, cells[key], repaint=repaint)
        self._cells[local_id] = cells

    def flush(self) -> None:
        """Apply recorded changes, bring the clocks on screen up to date if one shows other
        words by now, and sleep until the next change or clock."""
        now = self._now()
        self._flush_soon = False
        if now >= self._day_ends:  # "Start" of an older run shows its date from midnight
            self._day_ends = next_midnight(now)
            self._dirty.update(self._records)
        if self._dirty:
            self._apply_changes(now)
        if now >= self.clock_due:
            self._tick_clocks(now)
        if self._dirty:  # more than a flush's share (OFFSCREEN_BUDGET)
            self._flush_soon = True
            self._wake(self._repaint_interval)
        self._wake(max(0.0, min(self.clock_due, self._day_ends) - now))

    def _tick_clocks(self, now: float) -> None:
        """Write the elapsed cells on screen whose words changed (only those cells repaint),
        and note when the next one will: at most once a `tick_interval`."""
        self._viewport = (int(self.scroll_y), self.size.height)
        filtering = bool(parse_filter(self.filter_text)[0])
        due = math.inf
        ticked: list[tuple[str, str, Text]] = []
        for local_id in self._visible_ids():
            run = self._records[local_id]
            if run.is_final:
                continue
            due = min(due, elapsed_changes_at(run, now))
            cell = elapsed_cell(run, now)
            if local_id in self._dirty or cell == self._cells[local_id]["elapsed"]:
                continue
            if filtering:  # the words may decide whether the row passes the filter
                self._dirty.add(local_id)
                continue
            self._cells[local_id]["elapsed"] = cell
            ticked.append((local_id, "elapsed", cell))
        self.update_cells(ticked)  # one refresh for them all
        self.clock_due = max(due, now + self._tick_interval)

    def _apply_changes(self, now: float) -> None:
        """Add/remove rows for the filter, update changed cells."""
        visible = self._visible_ids()
        first_rows = not self._cells
        dirty = self._take_dirty(visible)
        colors = self._colors()
        needle, invert = parse_filter(self.filter_text)
        added = changed_sort_column = False
        removed: list[str] = []
        # newest first, so rows arrive in a stable order whatever the set's order
        for local_id in sorted(dirty, key=lambda lid: -self._records[lid].created_at):
            run = self._records[local_id]
            shown = self._cells.get(local_id)
            if shown is not None and not needle and local_id not in visible:
                # In the table but off screen, and no filter to decide on: building its cells
                # now would be most of a flush's cost for rows nobody sees (at 2,000 runs).
                # They are built when the row scrolls into view (render_lines).
                self._unpainted.add(local_id)
                changed_sort_column |= self._sort_value_changed(run)
                continue
            self._unpainted.discard(local_id)
            cells = run_cells(run, now, colors, self.marked)
            if not matches(run, cells, needle, invert):
                if shown is not None:
                    removed.append(local_id)
                    del self._cells[local_id]
                    self._sorted_by.pop(local_id, None)
                continue
            if shown is None:
                self.add_row(*(cells[k] for k in COLUMN_KEYS), key=local_id)
                self._cells[local_id] = cells
                added = True  # sorted below, which also notes where every row sorts
                continue
            self._write_cells(local_id, cells)
            changed_sort_column |= self._sort_value_changed(run)
        self.remove_rows(removed)
        if removed:
            self._recheck_clocks()  # rows below moved up
        if added or removed:
            self.post_message(self.RowsChanged())
        if added or changed_sort_column:
            self._apply_sort()
        if first_rows and self.row_count:
            self.move_cursor(row=0, animate=False)
        self.paints += 1

    def _sort_value_changed(self, run: RunRecord) -> bool:
        """Remember where `run` sorts; True if that moved (elapsed never re-sorts by itself)."""
        if self.sort_column == "elapsed":
            return False
        value = sort_value(run, self.sort_column, 0.0)
        old = self._sorted_by.get(run.local_id)
        self._sorted_by[run.local_id] = value
        return old is not None and old != value

    def _visible_ids(self) -> set[str]:
        """Row keys of the rows in the viewport (and a few around it)."""
        if not self.row_count:
            return set()
        top = max(0, int(self.scroll_y) - 5)
        bottom = min(self.row_count, top + self.size.height + 10)
        ids: set[str] = set()
        for row in range(top, bottom):
            with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                ids.add(str(self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value))
        return ids

    def _take_dirty(self, visible: set[str]) -> set[str]:
        """This flush's share of the changes: rows on screen and new rows at once, others
        (not seen until scrolled to) at most OFFSCREEN_BUDGET per flush, so a burst over
        thousands of runs never stalls a frame."""
        if len(self._dirty) <= OFFSCREEN_BUDGET:
            dirty, self._dirty = self._dirty, set()
            return dirty
        now_ids = {lid for lid in self._dirty if lid in visible or lid not in self._cells}
        rest = self._dirty - now_ids
        for lid in rest:
            if len(now_ids) >= len(visible) + OFFSCREEN_BUDGET:
                break
            now_ids.add(lid)
        self._dirty -= now_ids
        return now_ids

    def _apply_sort(self) -> None:
        if not self.row_count:
            return
        selected = self.selected_local_id
        now = self._now()
        column = self.sort_column

        def key(row: tuple[Text, ...]) -> Any:
            local_id = getattr(row[0], "local_id", "")
            return sort_value(self._records[local_id], column, now)

        self.sort(key=key, reverse=self.sort_reverse)
        self._recheck_clocks()  # other rows may be on screen now
        if column != "elapsed":
            self._sorted_by = {
                lid: sort_value(self._records[lid], column, now) for lid in self._cells
            }
        if selected is not None:
            # keep the cursor on the same run, wherever it moved
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _announce_view(self) -> None:
        self.post_message(self.ViewChanged(self.filter_text, self.sort_column, self.sort_reverse))

    # --- keys and clicks ------------------------------------------------------------------

    def action_open_run(self) -> None:
        local_id = self.selected_local_id
        if local_id is not None:
            self.post_message(self.RunSelected(local_id))

    def action_sort(self) -> None:
        """Cycle the sort column: started → crew → id → … ; `O` (shift) reverses."""
        index = COLUMN_KEYS.index(self.sort_column) if self.sort_column in COLUMN_KEYS else -1
        self.sort_by(COLUMN_KEYS[(index + 1) % len(COLUMN_KEYS)], reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.RunSelected(str(event.row_key.value)))
