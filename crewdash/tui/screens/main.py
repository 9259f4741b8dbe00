"""The main screen: crew pane and input form on the left, the runs table on the right, the
status bar and Footer below. It renders engine events and turns keys into engine calls; every
network wait runs in a worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Header, Input, Static

from crewdash.aop.models import RunState
from crewdash.core import models  # its records load on first use: after the first frame
from crewdash.tui.bindings import MAIN_BINDINGS, allowed
from crewdash.tui.messages import (
    AnswerRequest,
    DiffRuns,
    EngineEvents,
    EngineReady,
    MarkRun,
    OpenCrewTrends,
    OpenRun,
    PollRun,
    Prefill,
    ResolveRun,
    RunMarked,
    ShowRun,
    StopRun,
)
from crewdash.tui.screens.main_form import FormArea, FormScreen
from crewdash.tui.trends_feed import crew_pane_feed, moves_trends
from crewdash.tui.widgets.crew_pane import CrewPane
from crewdash.tui.widgets.footer import QuietFooter
from crewdash.tui.widgets.runs_mark import show_mark
from crewdash.tui.widgets.runs_table import RunsTable
from crewdash.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from crewdash.core.records import Event, RunRecord


FILTER_IDLE = "/ filter runs"
FILTER_TYPING = "filter runs: text in any column, !text to hide it (Enter keeps, Esc clears)"


class MainScreen(FormScreen):
    """Crew pane | form | runs table."""

    BINDINGS: ClassVar[list[BindingType]] = list(MAIN_BINDINGS)  # a copy: the type is wider
    AUTO_FOCUS = "#crews"
    # Screen.focused repaints the whole screen on every focus change (26 KB to the terminal
    # at 120x36, 15-30 ms under load); the widgets whose look depends on focus repaint
    # themselves when their styles change, so that full repaint only delayed keys like `/`.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self) -> None:
        super().__init__(id="main")
        self._counts: dict[str, tuple[str, int, int]] = {}  # local_id -> (crew, active, waiting)
        self._counts_dirty = False  # a crew's counts changed: the crew pane is repainted soon
        self.ready = False  # composed and mounted: engine_started may run
        self._loaded = False  # engine_started ran
        self._empty_words = "-"  # what #runs-empty says ("-": not set yet)
        self.trends_feed = crew_pane_feed(self)  # the crew pane's sparklines

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.app
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield CrewPane(
                    list(app.engine.config.crews.values()), colors=app.color_map, id="crews"
                )
                yield FormArea(id="form-area")
            with Vertical(id="right"):
                # Always there, one line: the operator sees the filter in force, and showing
                # it would resize the table (a full repaint of 2,000 runs' visible rows).
                yield Input(placeholder=FILTER_IDLE, id="filter", compact=True)
                yield RunsTable(now=app.now, colors=app.color_map, id="runs")
        yield StatusBar(receiver_url=None, now=app.now, colors=app.color_map, id="status")
        yield QuietFooter()

    @property
    def crews(self) -> CrewPane:
        return self.query_one(CrewPane)

    @property
    def runs(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        state = self.app.ui_state
        view = state.get("runs_view", {})
        filter_text = str(view.get("filter", ""))
        self.runs.restore_view(
            filter_text, str(view.get("sort", "started")), bool(view.get("reverse", True))
        )
        filter_input = self.query_one("#filter", Input)
        filter_input.value = filter_text
        filter_input.set_class(bool(filter_text), "-active")
        self.watch(self, "focused", self._focus_moved)
        names = self.crews.crew_names
        if names:
            last = state.get("last_crew")
            self.crews.choose(last if last in names else names[0])
        self.ready = True
        if self.app.engine_ready:
            self.engine_started()

    def on_engine_ready(self, message: EngineReady) -> None:
        if self.ready:
            self.engine_started()

    def engine_started(self) -> None:
        """Once the engine runs, load what it already knows (once: the app's EngineReady and
        this screen's mount may both come after the engine started)."""
        if self._loaded:
            return
        self._loaded = True
        engine = self.app.engine
        for run in engine.runs():
            self._track(run)
        self.runs.set_runs(engine.runs())
        self.runs.flush()
        latency_of = getattr(engine, "crew_latency", None)  # a deferred engine may lack it yet
        for name in self.crews.crew_names:
            health, detail = engine.crew_health(name)
            latency = latency_of(name) if latency_of is not None else None
            self.crews.set_health(name, health, detail, latency)
            self.status.set_crew_health(name, health, detail, None)
        self.status.receiver_url = engine.receiver_url
        self.status.set_inbox(len(engine.inbox()))
        self.status.redraw()
        self._flush_counts()
        self.trends_feed.request()
        self.app.dashboard_ready.set()

    def _focus_moved(self, focused: Any) -> None:
        """Widen the left column while the operator is in the form (see app.tcss)."""
        filling = focused is not None and self.query_one(FormArea) in focused.ancestors
        self.query_one("#body").set_class(filling, "-filling")

    @property
    def filling(self) -> bool:
        """Whether the form has the focus (and the wide left column)."""
        return self.query_one("#body").has_class("-filling")

    # --- engine events --------------------------------------------------------------------

    def on_engine_events(self, message: EngineEvents) -> None:
        if not self.ready:
            return  # engine_started reads everything the engine knows
        for event in message.events:
            self.on_engine_event(event)

    def on_engine_event(self, event: Event) -> None:
        if isinstance(event, models.RunChanged):
            self._track(event.run)
            self.runs.upsert(event.run)
            if moves_trends(event, outcomes=False):  # the pane shows runs started
                self.trends_feed.request()  # throttled: a burst reads the store once
        elif isinstance(event, models.CrewHealthChanged):
            self.crews.set_health(event.crew, event.health, event.detail, event.latency)
            self.status.set_crew_health(event.crew, event.health, event.detail, event.since)
        elif isinstance(event, models.InboxChanged):
            self.status.set_inbox(len(self.app.engine.inbox()))

    def _track(self, run: RunRecord) -> None:
        active = 0 if run.is_final else 1
        waiting = 1 if active and run.state is RunState.AWAITING_INPUT else 0
        value = (run.crew, active, waiting)
        if self._counts.get(run.local_id) != value:
            self._counts[run.local_id] = value
            if not self._counts_dirty:  # counted 0.25 s later: a burst repaints the pane once
                self._counts_dirty = True
                self.set_timer(0.25, self._flush_counts, name="crew-counts")

    def _flush_counts(self) -> None:
        self._say_why_empty()
        if not self._counts_dirty:
            return
        self._counts_dirty = False
        totals: dict[str, tuple[int, int]] = {}
        for crew, active, waiting in self._counts.values():
            a, w = totals.get(crew, (0, 0))
            totals[crew] = (a + active, w + waiting)
        self.crews.set_counts(totals)

    def _say_why_empty(self) -> None:
        """An empty table gets words: no runs yet, or a filter that matches none of them."""
        runs = self.runs
        words = ""
        if self._loaded and not runs.row_count:
            if runs.filter_text and runs.records():
                words = (
                    f"No run matches the filter {runs.filter_text!r} "
                    f"({len(runs.records())} hidden). Esc clears it."
                )
            elif not runs.records():
                words = "No runs yet." + (
                    ""
                    if self.app.read_only
                    else " n fills the selected crew's form; Ctrl+S starts a run."
                )
        if words != self._empty_words:
            self._empty_words = words
            notes = self.query("#runs-empty")
            if notes:
                note = notes.first(Static)
            elif words:  # mounted when first needed: not part of the first frame
                note = Static("", id="runs-empty")
                self.query_one("#right").mount(note, before=runs)
            else:
                return
            note.update(words)
            note.display = bool(words)

    # --- the form -------------------------------------------------------------------------

    @on(CrewPane.CrewChosen)
    def _crew_chosen(self, event: CrewPane.CrewChosen) -> None:
        if event.crew == self.crew:
            return
        self.crew = event.crew
        self.app.ui_state.set("last_crew", event.crew)
        self.load_form(event.crew)

    def on_prefill(self, message: Prefill) -> None:
        self.prefill(message.crew, message.inputs)

    def on_show_run(self, message: ShowRun) -> None:
        self.show_run(message.local_id)

    def prefill(self, crew: str, inputs: dict[str, Any]) -> None:
        """Show `crew`'s form filled with `inputs` (run again, edited)."""
        self.app.remember_inputs(crew, inputs)
        if crew == self.crew:
            self.load_form(crew)
        else:
            self.crews.choose(crew)  # highlighting loads the form with the remembered inputs
        self.call_after_refresh(self.action_new_run)

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)  # read-only: no new run, stop, resolve or answer

    # Focus moves that keys ask for happen at once (`set_focus`), not after the keys already
    # queued behind them as `Widget.focus()` does: `n` or `/` typed with the next letters in
    # one burst (a paste, a fast typist) would otherwise send those letters to the old widget.

    def action_focus_crews(self) -> None:
        self.set_focus(self.crews)

    def action_focus_runs(self) -> None:
        self.set_focus(self.runs)

    def action_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        # the hint now, in the same frame as the focus (the focus event comes a hop later)
        filter_input.placeholder = FILTER_TYPING
        self.set_focus(filter_input)

    def on_descendant_focus(self, event: Any) -> None:
        if event.widget.id == "filter":  # also reached by a click
            event.widget.placeholder = FILTER_TYPING

    def on_descendant_blur(self, event: Any) -> None:
        if event.widget.id == "filter":
            event.widget.placeholder = FILTER_IDLE

    def action_clear_filter(self) -> None:
        """Esc: leave the form for the runs table, or clear the filter and leave it."""
        filter_input = self.query_one("#filter", Input)
        if self.filling:
            self.set_focus(self.runs)
            return
        if not filter_input.value and not filter_input.has_focus:
            return
        filter_input.value = ""
        self.runs.set_filter("")
        self.set_focus(self.runs)

    def show_run(self, local_id: str) -> None:
        """Focus the runs table with `local_id` selected (after a kickoff)."""
        self.runs.flush()
        self.runs.focus()
        if local_id in self.runs.rows:
            self.runs.move_cursor(row=self.runs.get_row_index(local_id), animate=False)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.input.set_class(bool(event.value), "-active")  # a filter in force stands out
        self.runs.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(self.runs)

    @on(RunsTable.RowsChanged)
    def _rows_changed(self) -> None:
        self._say_why_empty()

    @on(RunsTable.ViewChanged)
    def _remember_view(self, event: RunsTable.ViewChanged) -> None:
        self._say_why_empty()  # a filter that matches nothing names itself
        self.app.ui_state.set(
            "runs_view",
            {"filter": event.filter_text, "sort": event.sort_column, "reverse": event.sort_reverse},
        )

    @on(RunsTable.RunSelected)
    def _open_run(self, event: RunsTable.RunSelected) -> None:
        self.post_message(OpenRun(event.local_id))

    def action_stop_run(self) -> None:
        local_id = self.runs.selected_local_id
        if local_id is not None:
            self.post_message(StopRun(local_id))

    def action_refresh_run(self) -> None:
        local_id = self.runs.selected_local_id
        if local_id is not None:
            self.post_message(PollRun(local_id))

    def action_resolve_run(self) -> None:
        local_id = self.runs.selected_local_id
        if local_id is not None:
            self.post_message(ResolveRun(local_id))

    def action_crew_trends(self) -> None:
        """`t`: the trends of the crew highlighted in the crew pane."""
        crew = self.crews.chosen
        if crew is not None:
            self.post_message(OpenCrewTrends(crew))

    def action_mark_run(self) -> None:
        local_id = self.runs.selected_local_id
        if local_id is not None:
            self.post_message(MarkRun(local_id))

    def action_diff_runs(self) -> None:
        local_id = self.runs.selected_local_id
        if local_id is not None:
            self.post_message(DiffRuns(local_id))

    def on_run_marked(self, message: RunMarked) -> None:
        show_mark(self.runs, message.local_id)

    def action_answer(self) -> None:
        """`i`: the selected run's request when it waits for one, else the oldest."""
        local_id = self.runs.selected_local_id if self.runs.has_focus else None
        run = self.runs.record(local_id) if local_id is not None else None
        if run is not None and run.state is RunState.AWAITING_INPUT:
            self.post_message(AnswerRequest(local_id=run.local_id))
        else:
            self.post_message(AnswerRequest())


__all__ = ["FILTER_IDLE", "FILTER_TYPING", "FormArea", "MainScreen"]
