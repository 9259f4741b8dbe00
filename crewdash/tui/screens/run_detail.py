"""Everything about one run: output, tasks and their timeline, inputs, state history, error,
raw JSON; copy, save, stop, run again. Updates live from the engine's events."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Protocol

from rich.highlighter import ReprHighlighter
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Collapsible,
    Footer,
    Input,
    Markdown,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)
from textual.widgets.tree import TreeNode

from crewdash.core.models import (
    DecisionRecord,
    InboxChanged,
    KickoffPhase,
    RunChanged,
    RunRecord,
    StateChange,
)
from crewdash.core.store.atomic import write_atomic
from crewdash.tui.format import (
    format_clock,
    format_duration,
    phase_label,
    short_id,
    state_label,
    tasks_done,
    theme_colors,
)
from crewdash.tui.messages import (
    AnswerRequest,
    EditRun,
    EngineEvents,
    PollRun,
    ResolveRun,
    StartRun,
    StopRun,
)
from crewdash.tui.screens.confirm import ConfirmModal
from crewdash.tui.widgets.timeline import Timeline, task_seconds


class DetailEngine(Protocol):
    """The part of the engine facade this screen uses."""

    def run(self, local_id: str) -> RunRecord | None: ...
    def history(self, local_id: str) -> list[StateChange]: ...
    def decisions(self, local_id: str) -> list[DecisionRecord]: ...


def parse_json_output(text: str) -> Any | None:
    """The output as JSON when it is an object or a list, else None (shown as Markdown)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict | list) else None


def record_as_json(record: RunRecord, history: list[StateChange]) -> str:
    """The run as JSON for the Raw tab, copy and save. No token is part of a record."""
    data = dataclasses.asdict(record)
    data["history"] = [dataclasses.asdict(change) for change in history]
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


class RunDetailScreen(Screen[None]):
    """One run in full. Its verbs go to the app as messages (`crewdash.tui.messages`)."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the runs"),
        Binding(
            "y", "copy", "Copy", id="copy", tooltip="Copy what this tab shows to the clipboard"
        ),
        Binding(
            "w", "save", "Save", id="save", tooltip="Save the output (or .json: the whole run)"
        ),
        Binding("s", "stop_run", "Stop", id="stop_run", tooltip="Stop this run (asks first)"),
        Binding(
            "i",
            "answer",
            "Answer",
            id="answer",
            tooltip="Answer this run's human-input request",
        ),
        Binding(
            "u",
            "resolve_run",
            "Resolve",
            id="resolve_run",
            tooltip="The kickoff's fate is unknown: adopt its id, send it again, or dismiss it",
        ),
        Binding(
            "g",
            "refresh_run",
            "Poll now",
            id="refresh_run",
            tooltip="Ask the server for this run's status now",
            show=False,
        ),
        Binding(
            "a",
            "run_again",
            "Run again",
            id="run_again",
            tooltip="Start again with the same inputs",
        ),
        Binding(
            "e",
            "edit_run_again",
            "Edit & run",
            id="edit_run_again",
            tooltip="Open the form with this run's inputs to change them first",
        ),
    ]

    def __init__(self, engine: DetailEngine, local_id: str) -> None:
        super().__init__()
        self.engine = engine
        self.local_id = local_id
        record = engine.run(local_id)
        if record is None:
            raise KeyError(f"no run {local_id!r}")
        self.record: RunRecord = record
        self._shown_output: str | None = None
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
        self._render_inputs()
        self._render_history()
        self._render_error()
        self.query_one("#raw-json", Static).update(JSON(self._raw_json()))
        self.refresh_bindings()

    def _render_head(self) -> None:
        record, colors = self.record, theme_colors(self.app)
        label = phase_label(record.phase, colors=colors) or state_label(
            record.state, record.raw_state, colors=colors
        )
        title = Text.assemble(
            (record.crew, "bold"),
            "  ·  run ",
            (short_id(record.kickoff_id), "bold"),
            "  ·  ",
            label,
        )
        if record.total_tasks:
            title.append(f"  ·  {tasks_done(record) or 0}/{record.total_tasks} tasks")
        if record.current_task and not record.is_final:
            title.append(f"  ·  now: {record.current_task}")
        self.query_one("#detail-title", Static).update(title)

        now = self._now()
        parts = [f"started {format_clock(record.created_at, now=now)}"]
        if record.finished_at is not None:
            parts.append(f"finished {format_clock(record.finished_at, now=now)}")
        if record.phase is KickoffPhase.UNKNOWN:
            parts.append("whether it started is unknown")
        elif record.phase is KickoffPhase.REFUSED:
            parts.append("it never started")
        elif record.is_final:  # '—' when the end is unknown (see RunRecord.duration)
            parts.append(f"took {format_duration(record.duration)}")
        else:
            parts.append(f"running for {format_duration(now - record.created_at)}")
        if record.kickoff_id:
            parts.append(f"kickoff id {record.kickoff_id}")
        self.query_one("#detail-times", Static).update("  ·  ".join(parts))

        notes = []
        if record.phase is KickoffPhase.UNKNOWN:
            notes.append(
                "nobody knows whether this kickoff started: u resolves it (adopt the id from"
                " the AOP dashboard, send it again, or say it did not start)"
            )
        if record.note:
            notes.append(record.note)
        if record.stalled:
            notes.append("no progress for a while (stalled)")
        if record.offline_since is not None:
            notes.append(
                f"crew unreachable since {format_clock(record.offline_since, now=now)};"
                " showing the last known state"
            )
        note = self.query_one("#detail-note", Static)
        note.update("⚠ " + "; ".join(notes) if notes else "")
        note.display = bool(notes)

    def _render_output(self) -> None:
        record = self.record
        output = record.result.output if record.result else None
        if output == self._shown_output and self._shown_output is not None:
            return
        box = self.query_one("#output-box", VerticalScroll)
        box.remove_children()
        self._shown_output = output
        if output is None:
            word = "No output yet: the run has not finished." if not record.is_final else None
            yield_text = word or "This run finished without an output."
            box.mount(Static(yield_text, classes="muted"))
            return
        parsed = parse_json_output(output)
        if parsed is None:
            box.mount(Markdown(output, id="output-markdown"))
        else:
            box.mount(json_tree(parsed, id="output-tree"))

    def _render_tasks(self) -> None:
        tasks = self.record.result.tasks if self.record.result else ()
        if tasks == self._shown_tasks:
            return
        self._shown_tasks = tasks
        self.query_one(Timeline).update(tasks)
        task_list = self.query_one("#task-list", Vertical)
        task_list.remove_children()
        widgets: list[Widget] = []
        for i, task in enumerate(tasks):
            seconds = task_seconds(task.execution_time)
            agent = task.agent or "unknown agent"
            title = f"{i + 1}. {task.task_id}  ·  {agent}  ·  {seconds}"
            widgets.append(
                Collapsible(
                    Markdown(task.output or "*(no output)*"),
                    title=title,
                    collapsed=True,
                )
            )
        if not widgets:
            widgets.append(Static("No task outputs yet.", classes="muted"))
        task_list.mount(*widgets)

    def _render_inputs(self) -> None:
        inputs = self.record.inputs
        if not inputs:
            self.query_one("#inputs-table", Static).update(Text("No inputs.", style="italic"))
            return
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Input", no_wrap=True)
        table.add_column("Value", ratio=1)
        highlighter = ReprHighlighter()
        for name, value in inputs.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            table.add_row(name, highlighter(Text(shown)) if not isinstance(value, str) else shown)
        self.query_one("#inputs-table", Static).update(table)

    def _render_history(self) -> None:
        history = self.engine.history(self.local_id)
        colors, now = theme_colors(self.app), self._now()
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Time", no_wrap=True)
        table.add_column("State", no_wrap=True)
        table.add_column("Task")
        table.add_column("Detail", ratio=1)
        table.add_row(
            format_clock(self.record.created_at, now=now), "… created", "", "kickoff sent"
        )
        rows: list[tuple[float, str | Text, str, str]] = [
            (
                change.at,
                state_label(change.state, change.raw_state, colors=colors),
                change.current_task or "",
                change.detail or "",
            )
            for change in history
        ]
        rows += [decision_row(d, colors) for d in self.engine.decisions(self.local_id)]
        for at, what, task, detail in sorted(rows, key=lambda row: row[0]):
            table.add_row(format_clock(at, now=now), what, task, detail)
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
        if action == "resolve_run":
            return self.record.phase is KickoffPhase.UNKNOWN  # shown only when it applies
        if action == "stop_run" and self.record.is_final:
            return None  # shown greyed out: a finished run cannot be stopped
        return True

    def action_back(self) -> None:
        self.dismiss(None)

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


def decision_row(
    decision: DecisionRecord, colors: dict[str, str]
) -> tuple[float, str | Text, str, str]:
    """One human decision as a History row: (time, what, task, who · how · the answer)."""
    if decision.channel == "observed":
        what = Text("◆ closed", style=colors.get("warning", ""))
    elif decision.outcome:
        what = Text(f"◆ {decision.outcome}", style="bold")
    elif decision.approve is False:
        what = Text("◆ changes asked", style="bold")
    else:
        what = Text("◆ approved", style="bold")
    task = decision.task_id or ""
    if decision.attempt > 1:
        task += f" (attempt {decision.attempt})"
    parts = [decision.user or "someone"]
    if decision.channel != "observed":
        parts.append(f"via {decision.channel}")
    if decision.feedback:
        parts.append(repr(decision.feedback))
    answer = decision.server_answer or decision.result.value
    parts.append(f"→ {decision.result.value.replace('_', ' ')}")
    if decision.server_answer and decision.server_answer != decision.result.value:
        parts.append(f"({answer})")
    return decision.at, what, task, "  ·  ".join(parts)


def json_tree(value: Any, *, id: str | None = None, expand_depth: int = 2) -> Tree[Any]:
    """A foldable, highlighted tree of a JSON value; the first levels open."""
    tree: Tree[Any] = Tree(_summary_label("output", value), id=id)
    highlighter = ReprHighlighter()

    def add(node: TreeNode[Any], key: str, item: Any, depth: int) -> None:
        if isinstance(item, dict | list):
            child = node.add(_summary_label(key, item), expand=depth < expand_depth)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for k, v in pairs:
                add(child, f"[{k}]" if isinstance(item, list) else str(k), v, depth + 1)
        else:
            label = Text.assemble((key, "bold"), " = ", highlighter(Text(json.dumps(item))))
            node.add_leaf(label)

    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for k, v in pairs:
        add(tree.root, f"[{k}]" if isinstance(value, list) else str(k), v, 1)
    tree.root.expand()
    tree.show_root = True
    return tree


def _summary_label(key: str, value: dict[str, Any] | list[Any]) -> Text:
    count = len(value)
    kind = f"{{}} {count} keys" if isinstance(value, dict) else f"[] {count} items"
    return Text.assemble((key, "bold"), " ", (kind, "dim"))


class SavePathModal(ModalScreen[Path | None]):
    """A small prompt for a file path; `.json` saves the whole run, anything else the output."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="save_cancel", tooltip="Close without saving"),
    ]

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="dialog"):
            yield Static("Save to file", classes="dialog-title")
            yield Static(
                "A .json name saves the whole run; any other name saves the output.",
                classes="muted",
            )
            yield Input(self.default, id="save-path", placeholder="path/to/file.md")
            yield Static("", id="save-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save-ok", variant="primary")
                yield Button("Cancel", id="save-cancel")

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save-ok")
    def _ok(self) -> None:
        text = self.query_one("#save-path", Input).value.strip()
        if not text:
            self.query_one("#save-error", Static).update("Type a file name.")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self.query_one("#save-error", Static).update(f"{path} is a folder; add a file name.")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#save-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["RunDetailScreen", "SavePathModal", "json_tree", "parse_json_output"]
