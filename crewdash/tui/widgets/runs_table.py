"""The runs table: every run of every crew, live.

Cost matters (FIELD-NOTES: a DataTable frame costs ~35 ms whatever changed), so changes are
only recorded when they arrive (`upsert`, O(1)) and applied by a timer a few times a second:
each changed row is rendered to cells, compared with what the table holds, and only differing
cells are written with `update_cell`. Rows are added or removed only when a run appears or the
filter changes; the table is never rebuilt.

Why a frame cost 35 ms: DataTable's `update_cell` bumps a counter that is part of every render
cache key, so one changed cell re-rendered every visible cell through Rich. `RunsTable`'s
`update_cell` keeps the counter and evicts only the changed rows' cached renders (and repaints
only their lines), so a frame costs what changed. It relies on DataTable internals of Textual
8 and falls back to the stock method if they are not there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.strip import Strip
from textual.widget import PseudoClasses, Widget
from textual.widgets import DataTable
from textual.widgets.data_table import (
    CellDoesNotExist,
    CellKey,
    ColumnKey,
    RowDoesNotExist,
    RowKey,
)

from crewdash.aop.models import RunState
from crewdash.core.models import KickoffPhase
from crewdash.tui.bindings import RUNS_BINDINGS
from crewdash.tui.format import (
    DEFAULT_COLORS,
    format_clock,
    format_duration,
    phase_label,
    progress_bar,
    short_id,
    state_label,
)

if TYPE_CHECKING:  # the records load with the engine, after the first frame
    from crewdash.core.records import RunRecord


class Column(NamedTuple):  # not a dataclass: cheaper to build at start-up
    key: str
    label: str
    width: int


# Widths include one trailing space: the table has no cell padding, so a 120-column terminal
# shows every column beside the crew pane and the form.
COLUMNS: tuple[Column, ...] = (
    Column("crew", "Crew", 10),
    Column("id", "Id", 9),  # 8 characters, as toasts, the inbox and the detail show it
    Column("state", "State", 12),
    Column("task", "Task", 13),
    Column("progress", "Progress", 10),  # "████ 1/3 "; 10 tasks or more fill it
    Column("elapsed", "Elapsed", 9),
    Column("started", "Start", 7),
    Column("attention", "Alert", 9),
)
# Every label leaves room for the sort mark (▲ ascending, ▼ descending) and a space after it.
SORT_MARKS = {False: "▲", True: "▼"}


def header_label(column: Column, sorted_by: str, reverse: bool) -> str:
    """A column's header: its label, with the sort mark when the runs are sorted by it."""
    if column.key != sorted_by:
        return column.label
    spaced = f"{column.label} {SORT_MARKS[reverse]}"
    return spaced if len(spaced) < column.width else column.label + SORT_MARKS[reverse]


COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
BAR_WIDTH = 4
OFFSCREEN_BUDGET = 200  # off-screen rows brought up to date per flush
# DataTable's render caches whose keys start with the row key (cells, rows), the one keyed by
# (update count, row index), and the per-line one: what a targeted cell update must evict
_ROW_KEYED_CACHES = ("_cell_render_cache", "_row_render_cache")
_TABLE_INTERNALS = (
    *_ROW_KEYED_CACHES,
    "_row_renderable_cache",
    "_line_cache",
    "_data",
    "_row_locations",
    "_column_locations",
)


class KeyedText(Text):
    """A cell that knows its run, so sorting can look at the record, not at the words."""

    def __init__(self, text: str, local_id: str, **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.local_id = local_id


def _clip(text: str | None, width: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def elapsed_seconds(run: RunRecord, now: float) -> float | None:
    """Seconds since the run was started: until now while it goes, `RunRecord.duration` after
    (None when no run existed or its end is unknown)."""
    if run.is_final:
        return None if run.duration is None else max(0.0, run.duration)
    return max(0.0, now - run.created_at)


def attention(run: RunRecord, colors: Mapping[str, str]) -> Text:
    """The mark in the last column: input awaited, crew offline, stalled."""
    if run.offline_since is not None and not run.is_final:
        return Text("! offline", style=f"bold {colors['error']}")
    if run.state is RunState.AWAITING_INPUT and not run.is_final:
        return Text("◆ input", style=f"bold {colors['warning']}")
    if run.stalled and not run.is_final:
        return Text("! stalled", style=f"bold {colors['warning']}")
    return Text("")


def run_cells(run: RunRecord, now: float, colors: Mapping[str, str]) -> dict[str, Text]:
    """The cells of one run's row, keyed by column."""
    widths = {c.key: c.width for c in COLUMNS}
    state = (
        phase_label(run.phase, colors=colors) if run.phase is not KickoffPhase.ACCEPTED else None
    )
    if state is None:
        state = state_label(run.state, run.raw_state, colors=colors)
    done = run.completed_tasks
    if run.state is RunState.COMPLETED and run.total_tasks:
        # some deployments stop reporting progress once a run ends: completed means all done
        done = run.total_tasks
    return {
        "crew": KeyedText(_clip(run.crew, widths["crew"] - 1), run.local_id),
        "id": Text(short_id(run.kickoff_id)),
        "state": state,
        "task": Text(_clip(run.current_task or "", widths["task"] - 1)),
        "progress": progress_bar(done, run.total_tasks, BAR_WIDTH, colors=colors),
        "elapsed": Text(format_duration(elapsed_seconds(run, now))),
        "started": Text(format_clock(run.created_at, now=now, seconds=False)),
        "attention": attention(run, colors),
    }


def parse_filter(text: str) -> tuple[str, bool]:
    """'!error' -> ('error', True): the needle, lower-cased, and whether to invert."""
    text = text.strip()
    if text.startswith("!"):
        return text[1:].strip().lower(), True
    return text.lower(), False


def matches(run: RunRecord, cells: Mapping[str, Text], needle: str, invert: bool) -> bool:
    """Whether a row passes the filter: the needle in any column (or the full ids)."""
    if not needle:
        return True
    hay = " ".join(c.plain for c in cells.values())
    hay = f"{hay} {run.kickoff_id or ''} {run.local_id} {run.raw_state} {run.state.value}".lower()
    return (needle in hay) != invert


def sort_value(run: RunRecord, column: str, now: float) -> Any:
    """What a column sorts by: the record's value, not the words on screen."""
    if column == "crew":
        return (run.crew, -run.created_at)
    if column == "id":
        return run.kickoff_id or ""
    if column == "state":
        return (run.state.value, -run.created_at)
    if column == "task":
        return run.current_task or ""
    if column == "progress":
        total = run.total_tasks or 0
        return (run.completed_tasks or 0) / total if total else -1.0
    if column == "elapsed":
        return elapsed_seconds(run, now) or 0.0
    if column == "attention":
        return (run.offline_since is not None, run.stalled, run.state.value == "awaiting_input")
    return run.created_at


class RunsTable(DataTable[Text]):
    """All crews' runs merged; `upsert` records a change, the timer paints it."""

    BINDINGS = RUNS_BINDINGS

    class RunSelected(Message):
        """The operator chose a run (Enter)."""

        def __init__(self, local_id: str) -> None:
            self.local_id = local_id
            super().__init__()

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
        self._last_tick = 0.0
        self.filter_text = ""
        self.sort_column = "started"
        self.sort_reverse = True
        self.paints = 0  # flushes that changed something: tests and benchmarks read it
        self._stale_rows: set[RowKey] = set()  # rows whose cached renders are out of date
        # rows off screen whose change is not in the table yet: painted when scrolled to
        self._unpainted: set[str] = set()
        self._sorted_by: dict[str, Any] = {}  # local_id -> its sort value when last placed
        self._targeted = all(hasattr(self, name) for name in _TABLE_INTERNALS)
        self._look_check = False  # styles were updated: see `notify_style_update`
        self._look: tuple[Any, ...] | None = None
        self._painted_focused = False  # whether the last paint looked focused

    def on_mount(self) -> None:
        for column in COLUMNS:
            label = header_label(column, self.sort_column, self.sort_reverse)
            self.add_column(label, key=column.key, width=column.width)
        self.set_interval(self._repaint_interval, self.flush, name="runs-table-flush")

    # --- what the app calls ---------------------------------------------------------------

    def upsert(self, run: RunRecord) -> None:
        """Record a run's new state; painted at the next flush (coalesced)."""
        self._records[run.local_id] = run
        self._dirty.add(run.local_id)

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

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Text,
        *,
        update_width: bool = False,
        repaint: bool = True,
    ) -> None:
        """`DataTable.update_cell`, but only the row's cached renders go stale (see above).
        `repaint=False`: the caller is rendering already (no second frame)."""
        if update_width or not self._targeted:
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if row_key not in self._row_locations or column_key not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for {row_key!r}, {column_key!r}.")
        self._data[row_key][column_key] = value
        self._stale_rows.add(row_key)
        row = self._row_locations.get(row_key)
        top = int(self.scroll_y)
        if repaint and top - 1 <= row <= top + self.size.height:
            # on screen (rows are one line high): repaint its line; a row off screen is
            # evicted before the next render and painted when scrolled to
            self.refresh_row(row)

    def _evict_stale_rows(self) -> None:
        rows, self._stale_rows = self._stale_rows, set()
        for name in _ROW_KEYED_CACHES:
            cache = getattr(self, name)
            for key in [k for k in cache.keys() if k[0] in rows]:  # noqa: SIM118 (not a dict)
                cache.discard(key)
        indexes = {self._row_locations.get(row) for row in rows}
        cache = self._row_renderable_cache
        for key in [k for k in cache.keys() if k[1] in indexes]:  # noqa: SIM118
            cache.discard(key)
        self._line_cache.clear()  # lines are cheap to join again from the cached rows

    # --- focus without a full repaint -----------------------------------------------------
    # The table looks focused while the focus is anywhere in its container, i.e. also while
    # the operator types in its filter (app.tcss styles it by `:focus-within`). Stock
    # DataTable drops every cached cell on any style update and keys its caches on its own
    # focus, so `/` re-rendered every visible cell through Rich (~30 ms) for a table that
    # looked just the same; this checks, at the next render, whether its look changed.

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
        if not self._targeted:
            return  # Widget's handler runs next, as stock
        event.prevent_default()
        self.has_focus = focused
        if self.looks_focused != self._painted_focused:
            self.refresh()
        if self.parent is not None:
            cls = events.DescendantFocus if focused else events.DescendantBlur
            self.parent.post_message(cls(self))

    def get_pseudo_class_state(self) -> PseudoClasses:
        state = super().get_pseudo_class_state()
        return state._replace(focus=self.looks_focused) if self._targeted else state

    def notify_style_update(self) -> None:
        if not self._targeted:
            super().notify_style_update()
            return
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

    def render_lines(self, crop: Any) -> list[Strip]:
        self._painted_focused = self.looks_focused
        if self._look_check:
            # component styles are final only after the update that called us: check now
            self._look_check = False
            look = self._current_look()
            if look != self._look:
                self._look = look
                self._stale_rows.clear()
                self._clear_caches()
        if self._unpainted:
            self._paint_scrolled_into_view()
        if self._stale_rows:
            self._evict_stale_rows()
        return super().render_lines(crop)

    def _paint_scrolled_into_view(self) -> None:
        """Bring rows the flush left unpainted up to date once they are on screen."""
        now = self._now()
        colors = self._colors()
        for local_id in self._visible_ids() & self._unpainted:
            self._unpainted.discard(local_id)
            self._write_cells(local_id, run_cells(self._records[local_id], now, colors), False)

    def _write_cells(self, local_id: str, cells: dict[str, Text], repaint: bool = True) -> None:
        """Write the cells that differ from what the row shows."""
        shown = self._cells[local_id]
        for key in COLUMN_KEYS:
            if cells[key] != shown[key]:
                self.update_cell(local_id, key, cells[key], repaint=repaint)
        self._cells[local_id] = cells

    def flush(self) -> None:
        """Apply recorded changes: add/remove rows for the filter, update changed cells."""
        now = self._now()
        visible = self._visible_ids()
        if now - self._last_tick >= self._tick_interval:
            self._last_tick = now
            # elapsed time ticks for runs still going (only rows on screen show it)
            self._dirty.update(lid for lid in visible if not self._records[lid].is_final)
        if not self._dirty:
            return
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
            cells = run_cells(run, now, colors)
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
        self._remove_rows(removed)
        if added or changed_sort_column:
            self._apply_sort()
        if first_rows and self.row_count:
            self.move_cursor(row=0, animate=False)
        self.paints += 1

    def _remove_rows(self, local_ids: list[str]) -> None:
        """`remove_row` for many rows at once. DataTable renumbers every row on each removal
        (O(rows)), so a filter that hid 500 of 2,000 runs took ~370 ms; this renumbers once."""
        try:
            from textual._two_way_dict import TwoWayDict  # DataTable's own index type
        except ImportError:  # internals moved: the stock method, row by row
            TwoWayDict = None
        if (
            len(local_ids) < 8
            or TwoWayDict is None
            or not self._targeted
            or not hasattr(self, "_updated_cells")
        ):
            for local_id in local_ids:
                self.remove_row(local_id)
            return
        gone = {RowKey(local_id) for local_id in local_ids}
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
            self._stale_rows.discard(key)
        # what DataTable.remove_row does after the renumbering, once
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

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
