"""Everything about one run: output, tasks and their timeline, its event stream (steps, tool
calls, task ends from its webhooks; `v` shows one raw), inputs, state history, error, raw JSON;
copy, save, stop, run again. Updates live from the engine's events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rich.json import JSON
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from crewdash.core.models import (
    DecisionRecord,
    InboxChanged,
    KickoffPhase,
    RunChanged,
    RunEventsAdded,
    RunRecord,
    StateChange,
)
from crewdash.core.runs.run_events import RunEvent
from crewdash.core.store.atomic import write_atomic
from crewdash.tui.bindings import DETAIL_BINDINGS, allowed
from crewdash.tui.format import short_id, theme_colors
from crewdash.tui.messages import (
    AnswerRequest,
    DiffRuns,
    EditRun,
    EngineEvents,
    MarkRun,
    PollRun,
    ResolveRun,
    StartRun,
    StopRun,
)
from crewdash.tui.screens.confirm import ConfirmModal
from crewdash.tui.screens.raw_event import RawEventModal
from crewdash.tui.screens.save_path import SavePathModal
from crewdash.tui.widgets.event_timeline import EventTimeline, merge_events, timeline_note
from crewdash.tui.widgets.run_panes import (
    head_notes,
    head_times,
    head_title,
    history_table,
    inputs_renderable,
    json_tree,
    output_widget,
    parse_json_output,
    record_as_json,
    task_widgets,
)
from crewdash.tui.widgets.timeline import Timeline

# the names this module had before its panes and modal moved out
__all__ = ["DetailEngine", "RunDetailScreen", "SavePathModal", "json_tree", "parse_json_output"]


class DetailEngine(Protocol):
    """The part of the engine facade this screen uses."""

    def run(self, local_id: str) -> RunRecord | None: ...
    def history(self, local_id: str) -> list[StateChange]: ...
    def decisions(self, local_id: str) -> list[DecisionRecord]: ...
    def run_events(self, local_id: str, after: int = 0) -> list[RunEvent]: ...
    @property
    def receiver_url(self) -> str | None: ...


class RunDetailScreen(Screen[None]):
    """One run in full. Its verbs go to the app as messages (`crewdash.tui.messages`)."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = list(DETAIL_BINDINGS)  # a copy: the type is wider

    def __init__(self, engine: DetailEngine, local_id: str) -> None:
        super().__init__()
        self.engine = engine
        self.local_id = local_id
        record = engine.run(local_id)
        if record is None:
            raise KeyError(f"no run {local_id!r}")
        self.record: RunRecord = record
        self._shown_output: str | None = None
        self._head: dict[str, Text | str] = {}  # what each line of the head shows
        self._shown_tasks: tuple[Any, ...] | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        record = self.record
        with Vertical(id="detail-head"):
            yield Static(id="detail-title")
            yield Static(id="detail-times", classes="muted")
            yield Static(id="detail-note", classes="warning-note")
        initial = "tab-error" if record.error and not record.result else "tab-output"
        with TabbedContent(initial=initial, id="detail-tabs"):
            with TabPane("Output", id="tab-output"):
                yield VerticalScroll(id="output-box")
            with TabPane("Tasks", id="tab-tasks"), VerticalScroll(id="tasks-box"):
                yield Static("Timeline", classes="section-title")
                yield Timeline(id="timeline")
                yield Vertical(id="task-list")
            with TabPane("Events", id="tab-events"):
                yield EventTimeline(id="event-timeline")
            with TabPane("Inputs", id="tab-inputs"), VerticalScroll():
                yield Static(id="inputs-table")
            with TabPane("History", id="tab-history"), VerticalScroll():
                yield Static(id="history-table")
            with TabPane("Error", id="tab-error"), VerticalScroll():
                yield Static(id="error-text")
            with TabPane("Raw JSON", id="tab-raw"), VerticalScroll():
                yield Static(id="raw-json")
        yield Footer()

    def on_mount(self) -> None:
        self._render_all()
        self.set_interval(1.0, self._tick)
        self.query_one(TabbedContent).focus()

    # -- live updates ----------------------------------------------------------------------

    def on_engine_events(self, message: EngineEvents) -> None:
        changed = [
            e.run
            for e in message.events
            if isinstance(e, RunChanged) and e.run.local_id == self.local_id
        ]
        if any(
            isinstance(e, RunEventsAdded) and e.local_id == self.local_id for e in message.events
        ):
            self._render_events()
        if changed:
            self.record = changed[-1]
            self._render_all()
        elif any(
            isinstance(e, InboxChanged) and e.request.local_id == self.local_id
            for e in message.events
        ):
            self._render_history()  # a decision about this run: History shows it

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else time.time()

    def _tick(self) -> None:
        if not self.record.is_final:
            self._render_head()

    # -- rendering -------------------------------------------------------------------------

    def _render_all(self) -> None:
        self._render_head()
        self._render_output()
        self._render_tasks()
        self._render_events()
        self._render_inputs()
        self._render_history()
        self._render_error()
        self.query_one("#raw-json", Static).update(JSON(self._raw_json()))
        self.refresh_bindings()

    def _render_head(self) -> None:
        record, now = self.record, self._now()
        self._show("detail-title", head_title(record, theme_colors(self.app)))
        self._show("detail-times", head_times(record, now))
        notes = head_notes(record, now)
        self._show("detail-note", "⚠ " + "; ".join(notes) if notes else "")
        self.query_one("#detail-note", Static).display = bool(notes)

    def _show(self, widget_id: str, content: Text | str) -> None:
        """Update a line of the head only when its words change (the 1-s tick mostly changes
        none or one), laying the screen out again only when its length changed."""
        shown = self._head.get(widget_id)
        if shown is not None and type(shown) is type(content) and shown == content:
            return
        self._head[widget_id] = content
        same_length = shown is not None and len(shown) == len(content)
        self.query_one(f"#{widget_id}", Static).update(content, layout=not same_length)

    def _render_output(self) -> None:
        record = self.record
        output = record.result.output if record.result else None
        if output == self._shown_output and self._shown_output is not None:
            return
        box = self.query_one("#output-box", VerticalScroll)
        box.remove_children()
        self._shown_output = output
        box.mount(output_widget(record, output))

    def _render_tasks(self) -> None:
        tasks = self.record.result.tasks if self.record.result else ()
        if tasks == self._shown_tasks:
            return
        self._shown_tasks = tasks
        self.query_one(Timeline).update(tasks)
        task_list = self.query_one("#task-list", Vertical)
        task_list.remove_children()
        task_list.mount(*task_widgets(tasks))

    def _render_events(self) -> None:
        shown = self.query_one(EventTimeline).events
        if shown:  # only what arrived since: a busy run's list is not read again per event
            fresh = self.engine.run_events(self.local_id, after=max(e.id for e in shown))
            events = merge_events(shown, fresh)
        else:
            events = self.engine.run_events(self.local_id)
        note = timeline_note(
            len(events),
            receiver_on=self.engine.receiver_url is not None,
            run_has_hooks=bool(self.record.webhooks.get("step_url")),
            final=self.record.is_final,
        )
        self.query_one(EventTimeline).show(events, note, now=self._now())

    def _render_inputs(self) -> None:
        self.query_one("#inputs-table", Static).update(inputs_renderable(self.record.inputs))

    def _render_history(self) -> None:
        table = history_table(
            self.record,
            self.engine.history(self.local_id),
            self.engine.decisions(self.local_id),
            theme_colors(self.app),
            self._now(),
        )
        self.query_one("#history-table", Static).update(table)

    def _render_error(self) -> None:
        error = self.record.error
        # A Text keeps the error's indentation (tracebacks) exactly as the server sent it.
        self.query_one("#error-text", Static).update(Text(error or "No error."))
        tabs = self.query_one(TabbedContent)
        if error:
            tabs.show_tab("tab-error")
        else:
            tabs.hide_tab("tab-error")

    def _raw_json(self) -> str:
        return record_as_json(self.record, self.engine.history(self.local_id))

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "raw_event":  # only where the events are
            return self.query_one(TabbedContent).active == "tab-events"
        if action == "resolve_run":
            return allowed(self, action) and self.record.phase is KickoffPhase.UNKNOWN
        if action == "stop_run" and self.record.is_final:
            # shown greyed out: a finished run cannot be stopped (read-only: not there at all)
            return None if allowed(self, action) else False
        return allowed(self, action)  # read-only: no stop, answer, run again or save

    def action_back(self) -> None:
        self.dismiss(None)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()  # `v` is shown on the Events tab only

    def action_raw_event(self) -> None:
        event = self.query_one(EventTimeline).selected
        if event is None:
            self.notify("No event to show: none has arrived for this run.", severity="warning")
            return
        self.app.push_screen(RawEventModal(event, now=self._now()))

    def _active_text(self) -> tuple[str, str]:
        """What the active tab shows, as text to copy: (what, text)."""
        active = self.query_one(TabbedContent).active
        record = self.record
        if active == "tab-error" and record.error:
            return "error", record.error
        if active == "tab-inputs":
            return "inputs", json.dumps(record.inputs, indent=2, ensure_ascii=False)
        if active == "tab-raw":
            return "raw JSON", self._raw_json()
        selected = self.query_one(EventTimeline).selected
        if active == "tab-events" and selected is not None:
            return "event's raw JSON", selected.raw
        if active == "tab-tasks" and record.result and record.result.tasks:
            text = "\n\n".join(f"## {t.task_id}\n\n{t.output}" for t in record.result.tasks)
            return "task outputs", text
        if record.result is not None:
            return "output", record.result.output
        return "raw JSON", self._raw_json()

    def action_copy(self) -> None:
        what, text = self._active_text()
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the {what} ({len(text):,} characters).", title="Copied")

    def action_save(self) -> None:
        default = f"{self.record.crew}-{short_id(self.record.kickoff_id or self.local_id)}.md"
        self.app.push_screen(SavePathModal(default), self._save_to)

    def _save_to(self, path: Path | None) -> None:
        if path is None:
            return
        record = self.record
        if path.suffix.lower() == ".json":
            text = self._raw_json()
        elif record.result is not None:
            text = record.result.output
        else:
            text = record.error or self._raw_json()
        try:
            write_atomic(path, text.encode("utf-8"), mode=0o644)
        except OSError as exc:
            self.notify(f"Could not save to {path}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Saved to {path}", title="Saved")

    def action_stop_run(self) -> None:
        self.post_message(StopRun(self.local_id))

    def action_refresh_run(self) -> None:
        self.post_message(PollRun(self.local_id))

    def action_resolve_run(self) -> None:
        self.post_message(ResolveRun(self.local_id))

    def action_mark_run(self) -> None:
        self.post_message(MarkRun(self.local_id))

    def action_diff_runs(self) -> None:
        self.post_message(DiffRuns(self.local_id))

    def action_answer(self) -> None:
        # never disabled: a disabled `i` would fall through to the app's `i` (the oldest
        # request of any run); the app says so when this run waits for nobody
        self.post_message(AnswerRequest(local_id=self.local_id))

    def _run_again(self, edit: bool) -> None:
        if self.record.phase is KickoffPhase.INTENT:
            self.notify("This run is still being started.", severity="warning")
            return
        crew, inputs = self.record.crew, dict(self.record.inputs)
        if self.record.phase is KickoffPhase.UNKNOWN and not edit:
            from crewdash.core.runs.resolve import DUPLICATE_RISK

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.post_message(StartRun(crew, inputs))
                    self.dismiss(None)

            self.app.push_screen(
                ConfirmModal(
                    "Nobody knows whether this kickoff started. Start another run anyway?",
                    confirm_label="Run again",
                    danger=True,
                    detail=f"Careful: {DUPLICATE_RISK}. u resolves this run instead.",
                ),
                confirmed,
            )
            return
        self.post_message(EditRun(crew, inputs) if edit else StartRun(crew, inputs))
        self.dismiss(None)

    def action_run_again(self) -> None:
        self._run_again(edit=False)

    def action_edit_run_again(self) -> None:
        self._run_again(edit=True)
