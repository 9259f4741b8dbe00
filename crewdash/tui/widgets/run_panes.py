"""What the run detail screen's head and tabs show, built from a run's records (the screen,
screens/run_detail.py, puts them in place and keeps them live)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.highlighter import ReprHighlighter
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static, Tree
from textual.widgets.tree import TreeNode

from crewdash.core.audit import BROWSER
from crewdash.core.duration_words import format_duration
from crewdash.core.models import DecisionRecord, KickoffPhase, RunRecord, StateChange
from crewdash.tui.format import format_clock, phase_label, short_id, state_label, tasks_done
from crewdash.tui.widgets.timeline import task_seconds


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
        origin = f" from {decision.origin}" if decision.origin == BROWSER else ""
        parts.append(f"via {decision.channel}{origin}")
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


def head_title(record: RunRecord, colors: dict[str, str]) -> Text:
    """The head's first line: crew, run, state, tasks done, the task at work."""
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
    return title


def head_times(record: RunRecord, now: float) -> str:
    """The head's second line: when it started, finished, how long it took, its id."""
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
    return "  ·  ".join(parts)


def head_notes(record: RunRecord, now: float) -> list[str]:
    """The warnings under the head (none: the note is hidden)."""
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
    return notes


def output_widget(record: RunRecord, output: str | None) -> Widget:
    """The Output tab's content: a JSON tree, Markdown, or why there is none."""
    if output is None:
        word = "No output yet: the run has not finished." if not record.is_final else None
        return Static(word or "This run finished without an output.", classes="muted")
    parsed = parse_json_output(output)
    if parsed is None:
        return Markdown(output, id="output-markdown")
    return json_tree(parsed, id="output-tree")


def task_widgets(tasks: Sequence[Any]) -> list[Widget]:
    """The Tasks tab's list: one folded output per task."""
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
    return widgets


def inputs_renderable(inputs: Mapping[str, Any]) -> Table | Text:
    """The Inputs tab: a table of the run's inputs, values highlighted unless text."""
    if not inputs:
        return Text("No inputs.", style="italic")
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    table.add_column("Input", no_wrap=True)
    table.add_column("Value", ratio=1)
    highlighter = ReprHighlighter()
    for name, value in inputs.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(name, highlighter(Text(shown)) if not isinstance(value, str) else shown)
    return table


def history_table(
    record: RunRecord,
    history: list[StateChange],
    decisions: list[DecisionRecord],
    colors: dict[str, str],
    now: float,
) -> Table:
    """The History tab: every state change and human decision, in time order."""
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    table.add_column("Time", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Task")
    table.add_column("Detail", ratio=1)
    table.add_row(format_clock(record.created_at, now=now), "… created", "", "kickoff sent")
    rows: list[tuple[float, str | Text, str, str]] = [
        (
            change.at,
            state_label(change.state, change.raw_state, colors=colors),
            change.current_task or "",
            change.detail or "",
        )
        for change in history
    ]
    rows += [decision_row(d, colors) for d in decisions]
    for at, what, task, detail in sorted(rows, key=lambda row: row[0]):
        table.add_row(format_clock(at, now=now), what, task, detail)
    return table
