"""The run marked for a diff: `m` on a run (in the runs table or its detail) marks it, `m` on
it again unmarks it, `d` on another run opens the diff of the two. One mark for the whole app,
kept here; the app hands MarkRun and DiffRuns (crewdash.tui.messages) to this and tells the
main screen which run to show marked (RunMarked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from crewdash.tui.format import short_id
from crewdash.tui.messages import RunMarked

if TYPE_CHECKING:
    from textual.screen import Screen

    from crewdash.core.records import RunRecord

NO_MARK = "Mark a run with m first, then press d on another run to compare them."
SAME_RUN = "This is the marked run: select or open another run and press d."


class MarkApp(Protocol):
    """What marking needs of the app."""

    engine: Any

    @property
    def main_screen(self) -> Any: ...
    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", timeout: float = ...
    ) -> None: ...
    def push_screen(
        self, screen: Screen[Any], callback: Callable[[Any], Any] | None = ...
    ) -> Any: ...


def _name(run: RunRecord) -> str:
    return f"{run.crew} {short_id(run.kickoff_id or run.local_id)}"


class RunMarks:
    def __init__(self, app: MarkApp) -> None:
        self._app = app
        self.marked: str | None = None

    def toggle(self, local_id: str) -> None:
        """Mark run `local_id`, or unmark it when it is the marked run."""
        app = self._app
        run = app.engine.run(local_id)
        if run is None:
            return
        if self.marked == local_id:
            self.marked = None
            app.notify(f"Unmarked run {_name(run)}.", title="Diff")
        else:
            self.marked = local_id
            app.notify(
                f"Marked run {_name(run)}. Select or open another run and press d to compare.",
                title="Diff",
            )
        main = app.main_screen
        if main is not None:
            main.post_message(RunMarked(self.marked))

    def diff(self, local_id: str) -> None:
        """Open the diff of the marked run (A) and run `local_id` (B), or say why not."""
        app = self._app
        if self.marked is None:
            app.notify(NO_MARK, title="Diff", severity="warning")
            return
        if self.marked == local_id:
            app.notify(SAME_RUN, title="Diff", severity="warning")
            return
        base, other = app.engine.run(self.marked), app.engine.run(local_id)
        if base is None or other is None:
            app.notify("That run is no longer in the store.", title="Diff", severity="warning")
            return
        from crewdash.tui.screens.run_diff import RunDiffScreen

        app.push_screen(RunDiffScreen(app.engine, base, other))
