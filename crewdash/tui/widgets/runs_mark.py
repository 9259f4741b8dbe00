"""The mark of the run marked for a diff in the runs table (its crew cell starts with
runs_cells.MARK): kept out of runs_table.py, which only passes `marked` to the cells."""

from __future__ import annotations

from crewdash.tui.widgets.runs_table import RunsTable


def show_mark(table: RunsTable, local_id: str | None) -> None:
    """Show run `local_id` marked (None: no run), repainting the rows that change."""
    old, table.marked = table.marked, local_id
    for changed in {old, local_id} - {None}:
        run = table.record(changed) if changed is not None else None
        if run is not None:
            table.upsert(run)  # repainted at the next flush, like any change of the run
