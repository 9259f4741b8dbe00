"""What the run diff screen shows, as Rich text: the head (states, durations, ... of A and B)
and the rows of the two columns (inputs, each task's output, the final output, the error).

Pure functions of a `RunDiff` (core/runs/diff.py): the widget that lays the rows out and
scrolls them is diff_view.py. Each side of a row starts with a gutter mark: "-" only in A,
"+" only in B, "~" changed (its changed words marked), blank when equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from crewdash.core.duration_words import format_duration
from crewdash.core.runs.diff import FieldChange, InputChange, RunDiff, TaskDiff
from crewdash.core.runs.text_diff import DiffRow, Span, TextDiff, word_spans
from crewdash.tui.format import short_id

_STATUS_WORDS = {
    "equal": "unchanged",
    "changed": "changed",
    "added": "only in B",
    "removed": "only in A",
}


@dataclass(frozen=True, slots=True)
class Pair:
    """One row of the two columns; `left` is run A's side, `right` run B's."""

    left: Text
    right: Text


@dataclass(frozen=True, slots=True)
class Title:
    """A row across both columns: a section's name."""

    text: Text


Row = Pair | Title


class Looks:
    """The styles of the diff, from the theme's colours."""

    def __init__(self, colors: Mapping[str, str]) -> None:
        self.removed = colors["error"]
        self.added = colors["success"]
        self.changed = colors["warning"]
        self.muted = colors["foreground-muted"]
        self.title = f"bold {colors['accent']}"
        self.removed_words = f"bold reverse {colors['error']}"
        self.added_words = f"bold reverse {colors['success']}"


def _plain(mark: str, text: str | None, style: str = "") -> Text:
    return Text(f"{mark} {text}" if text is not None else "", style=style)


def _spans(spans: tuple[Span, ...], words_style: str) -> Text:
    text = Text("~ ")
    for span in spans:
        text.append(span.text, style=words_style if span.changed else "")
    return text


def text_rows(diff: TextDiff, looks: Looks) -> Iterator[Pair]:
    """A text diff as rows: equal lines on both sides, a removed line left only, an added
    one right only, a changed line on both with its changed words marked."""
    for row in diff.rows:
        yield _text_row(row, looks)


def _text_row(row: DiffRow, looks: Looks) -> Pair:
    if row.tag == "equal":
        return Pair(_plain(" ", row.a), _plain(" ", row.b))
    if row.tag == "removed":
        return Pair(_plain("-", row.a, looks.removed), Text(""))
    if row.tag == "added":
        return Pair(Text(""), _plain("+", row.b, looks.added))
    return Pair(_spans(row.a_spans, looks.removed_words), _spans(row.b_spans, looks.added_words))


def _title(words: str, status: str, looks: Looks, detail: str = "") -> Title:
    text = Text(words, style=looks.title)
    style = looks.muted if status == "equal" else looks.changed
    text.append(f"  {_STATUS_WORDS[status]}", style=style)
    if detail:
        text.append(f"  {detail}", style=looks.muted)
    return Title(text)


def _input_rows(inputs: tuple[InputChange, ...], looks: Looks) -> Iterator[Row]:
    status = "changed" if any(i.status != "equal" for i in inputs) else "equal"
    yield _title("Inputs", status, looks)
    if not inputs:
        yield Pair(Text("  (none)", style=looks.muted), Text("  (none)", style=looks.muted))
    for change in inputs:
        a = None if change.a is None else f"{change.key}: {change.a}"
        b = None if change.b is None else f"{change.key}: {change.b}"
        if change.status == "equal":
            yield Pair(_plain(" ", a), _plain(" ", b))
        elif a is not None and b is not None:  # a changed value: its changed words marked
            a_spans, b_spans = word_spans(a, b)
            yield Pair(_spans(a_spans, looks.removed_words), _spans(b_spans, looks.added_words))
        else:
            yield Pair(
                _plain("-" if b is None else "~", a, looks.removed),
                _plain("+" if a is None else "~", b, looks.added),
            )


def _task_rows(task: TaskDiff, looks: Looks) -> Iterator[Row]:
    times = ""
    if task.a_seconds is not None or task.b_seconds is not None:
        times = f"{format_duration(task.a_seconds)} → {format_duration(task.b_seconds)}"
    yield _title(f"Task {task.name}", task.status, looks, times)
    if task.status != "equal":  # an unchanged output is said so, not shown twice
        yield from text_rows(task.text, looks)


def _text_section(name: str, diff: TextDiff, looks: Looks) -> Iterator[Row]:
    if diff.a_missing and diff.b_missing:
        return
    missing = "none in A" if diff.a_missing else "none in B" if diff.b_missing else ""
    yield _title(name, "changed" if diff.changed else "equal", looks, missing)
    yield from text_rows(diff, looks)


def diff_rows(diff: RunDiff, colors: Mapping[str, str]) -> list[Row]:
    """Every row the two columns show, top to bottom."""
    looks = Looks(colors)
    rows: list[Row] = [*_input_rows(diff.inputs, looks)]
    for task in diff.tasks:
        rows.extend(_task_rows(task, looks))
    rows.extend(_text_section("Final output", diff.output, looks))
    rows.extend(_text_section("Error", diff.error, looks))
    return rows


def _field_text(field: FieldChange, value: object) -> str:
    if value is None:
        return "—"
    if field.name == "duration" and isinstance(value, float | int):
        return format_duration(max(0.0, float(value)))
    if field.name == "progress" and isinstance(value, tuple):
        return f"{value[0]}/{value[1]} tasks"
    return str(value)


def head_table(diff: RunDiff, colors: Mapping[str, str]) -> Table:
    """Runs A and B side by side: ids, then each compared field, a change stands out."""
    looks = Looks(colors)
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(width=12, style=looks.muted)
    table.add_column(ratio=1)
    table.add_column(ratio=1)
    table.add_row(
        "",
        Text(f"A  {short_id(diff.a.kickoff_id or diff.a.local_id)}  {diff.a.crew}", looks.title),
        Text(f"B  {short_id(diff.b.kickoff_id or diff.b.local_id)}  {diff.b.crew}", looks.title),
    )
    for field in diff.fields:
        style = f"bold {looks.changed}" if field.changed else ""
        b = Text(_field_text(field, field.b), style=style)
        if field.name == "duration" and field.changed and None not in (field.a, field.b):
            delta = float(field.b) - float(field.a)
            b.append(f"  ({'+' if delta >= 0 else '-'}{format_duration(abs(delta))})", looks.muted)
        table.add_row(field.name.capitalize(), Text(_field_text(field, field.a), style=style), b)
    return table
