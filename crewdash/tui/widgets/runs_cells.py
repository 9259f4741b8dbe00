"""What the runs table shows: its columns, each run's cells, the filter and the sort keys
(pure functions of a run record; the widget is runs_table.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.text import Text

from crewdash.aop.models import RunState
from crewdash.core.duration_words import format_duration
from crewdash.core.models import KickoffPhase
from crewdash.tui.format import (
    duration_changes_in,
    format_clock,
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


def elapsed_cell(run: RunRecord, now: float) -> Text:
    """The elapsed column's cell."""
    return Text(format_duration(elapsed_seconds(run, now)))


def elapsed_changes_at(run: RunRecord, now: float) -> float:
    """When the elapsed cell of a run still going next shows other words (inf once final)."""
    if run.is_final:
        return float("inf")
    return now + duration_changes_in(now - run.created_at)


def attention(run: RunRecord, colors: Mapping[str, str]) -> Text:
    """The mark in the last column: input awaited, crew offline, stalled."""
    if run.offline_since is not None and not run.is_final:
        return Text("! offline", style=f"bold {colors['error']}")
    if run.state is RunState.AWAITING_INPUT and not run.is_final:
        return Text("◆ input", style=f"bold {colors['warning']}")
    if run.stalled and not run.is_final:
        return Text("! stalled", style=f"bold {colors['warning']}")
    return Text("")


MARK = "◉"  # the run marked for a diff (`m`)


def _crew_cell(run: RunRecord, width: int, colors: Mapping[str, str], marked: bool) -> Text:
    if not marked:
        return KeyedText(_clip(run.crew, width), run.local_id)
    cell = KeyedText(f"{MARK} {_clip(run.crew, width - 2)}", run.local_id)
    cell.stylize(f"bold {colors['accent']}", 0, 1)
    return cell


def run_cells(
    run: RunRecord, now: float, colors: Mapping[str, str], marked: str | None = None
) -> dict[str, Text]:
    """The cells of one run's row, keyed by column; `marked`: the run marked for a diff,
    whose crew cell starts with MARK."""
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
        "crew": _crew_cell(run, widths["crew"] - 1, colors, marked == run.local_id),
        "id": Text(short_id(run.kickoff_id)),
        "state": state,
        "task": Text(_clip(run.current_task or "", widths["task"] - 1)),
        "progress": progress_bar(done, run.total_tasks, BAR_WIDTH, colors=colors),
        "elapsed": elapsed_cell(run, now),
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
