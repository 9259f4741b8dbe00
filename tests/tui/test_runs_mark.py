"""The mark of the run marked for a diff, in its crew cell (runs_cells.run_cells)."""

from __future__ import annotations

from screens_fixtures import NOW, completed_run

from crewdash.tui.format import DEFAULT_COLORS
from crewdash.tui.widgets.runs_cells import COLUMNS, MARK, run_cells

WIDTH = {c.key: c.width for c in COLUMNS}["crew"] - 1  # one trailing space per column


def test_only_the_marked_run_shows_the_mark_and_the_cell_keeps_its_width() -> None:
    run = completed_run(crew="trip-planner")
    plain = run_cells(run, NOW, DEFAULT_COLORS)["crew"]
    other = run_cells(run, NOW, DEFAULT_COLORS, "someone-else")["crew"]
    marked = run_cells(run, NOW, DEFAULT_COLORS, run.local_id)["crew"]
    assert plain.plain == other.plain == "trip-pla…"
    assert marked.plain == f"{MARK} trip-p…" and len(marked.plain) == WIDTH
    assert getattr(marked, "local_id", None) == run.local_id  # still sorts by its record


def test_a_short_crew_name_is_not_clipped() -> None:
    run = completed_run(crew="qa")
    assert run_cells(run, NOW, DEFAULT_COLORS, run.local_id)["crew"].plain == f"{MARK} qa"
