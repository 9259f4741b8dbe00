"""Two runs compared (`m` marks one, `d` on another opens this): states and durations at the
top, then inputs, each task's output and the final output in two columns, A (the marked run)
left and B right, changed lines and words highlighted. The diff is computed once, when the
screen opens (core/runs/diff.py): a run that changes meanwhile does not move it."""

from __future__ import annotations

from typing import ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from crewdash.core.models import DecisionRecord, RunRecord
from crewdash.core.runs.diff import RunDiff, diff_runs
from crewdash.tui.bindings import DIFF_BINDINGS
from crewdash.tui.format import theme_colors
from crewdash.tui.widgets.diff_rows import diff_rows, head_table
from crewdash.tui.widgets.diff_view import DiffView


class DiffEngine(Protocol):
    """The part of the engine facade this screen uses."""

    def decisions(self, local_id: str) -> list[DecisionRecord]: ...


class RunDiffScreen(Screen[None]):
    """Run A (the base) and run B compared."""

    BINDINGS: ClassVar[list[BindingType]] = list(DIFF_BINDINGS)  # a copy: the type is wider
    DEFAULT_CSS = """
    RunDiffScreen #diff-head {
        height: auto;
        padding: 0 1;
        background: $boost;
        border-bottom: solid $primary-muted;
    }
    RunDiffScreen #diff-title { text-style: bold; }
    RunDiffScreen #diff-verdict { color: $text-muted; }
    RunDiffScreen DiffView { padding: 0 1; }
    """

    def __init__(self, engine: DiffEngine, run_a: RunRecord, run_b: RunRecord) -> None:
        super().__init__()
        self.diff: RunDiff = diff_runs(
            run_a,
            run_b,
            decisions_a=len(engine.decisions(run_a.local_id)),
            decisions_b=len(engine.decisions(run_b.local_id)),
        )

    def compose(self) -> ComposeResult:
        diff, colors = self.diff, theme_colors(self.app)
        crews = diff.a.crew if diff.a.crew == diff.b.crew else f"{diff.a.crew} / {diff.b.crew}"
        yield Static(
            Text(f"Run diff · {crews} · A is the marked run, B the one compared with it"),
            id="diff-title",
        )
        yield Static(head_table(diff, colors), id="diff-head")
        yield Static(self._verdict(), id="diff-verdict")
        yield DiffView(diff_rows(diff, colors), id="diff-view")
        yield Footer()

    def _verdict(self) -> str:
        diff = self.diff
        if not diff.changed:
            return " The runs are the same: same inputs, states and outputs."
        tasks = sum(1 for t in diff.tasks if t.status != "equal")
        inputs = sum(1 for i in diff.inputs if i.status != "equal")
        lines = diff.output.count("changed") + diff.output.count("added")
        lines += diff.output.count("removed")
        return (
            f" {inputs} input(s), {tasks} task(s) and {lines} line(s) of the final output "
            "differ.  n/p: next/previous section"
        )

    def on_mount(self) -> None:
        self.query_one(DiffView).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_next_section(self) -> None:
        self.query_one(DiffView).action_next_section()

    def action_previous_section(self) -> None:
        self.query_one(DiffView).action_previous_section()
