"""`crewdash diff` in words: the head (states, durations, ... of A and B), then inputs, each
task and the final output as a unified diff, changed words in [-old-] and {+new+}.

Equal lines are shown only around changes (`CONTEXT` lines), the rest counted.
"""

from __future__ import annotations

from collections.abc import Iterator

from crewdash.commands.support.time import local_clock
from crewdash.core.runs.diff import FieldChange, RunDiff, RunSide, TaskDiff
from crewdash.core.runs.text_diff import DiffRow, Span, TextDiff

CONTEXT = 2


def seconds_text(seconds: float | None) -> str:
    """'42.0s', '3m 05s', '1h 02m'; '-' when unknown."""
    if seconds is None:
        return "-"
    if abs(seconds) < 60:
        return f"{seconds:.1f}s"
    whole = round(abs(seconds))
    sign = "-" if seconds < 0 else ""
    if whole < 3600:
        return f"{sign}{whole // 60}m {whole % 60:02d}s"
    return f"{sign}{whole // 3600}h {whole % 3600 // 60:02d}m"


def _value(field: FieldChange, value: object) -> str:
    if value is None:
        return "-"
    if field.name == "duration" and isinstance(value, float | int):
        return seconds_text(float(value))
    if field.name == "progress" and isinstance(value, tuple):
        return f"{value[0]}/{value[1]}"
    return str(value)


def _field_line(field: FieldChange) -> str:
    a, b = _value(field, field.a), _value(field, field.b)
    line = f"  {field.name:<10} {a:<16} {'->' if field.changed else '=='} {b}"
    if field.name == "duration" and isinstance(field.a, float) and isinstance(field.b, float):
        delta = field.b - field.a
        if field.changed:
            line += f"  ({'+' if delta >= 0 else '-'}{seconds_text(abs(delta))})"
    return line


def _side_line(name: str, side: RunSide) -> str:
    ident = side.kickoff_id or "(no kickoff id)"
    return f"{name}  {ident}  local {side.local_id}  started {local_clock(side.created_at)}"


def _marked(spans: tuple[Span, ...], opening: str, closing: str) -> str:
    return "".join(f"{opening}{s.text}{closing}" if s.changed else s.text for s in spans)


def _row_lines(row: DiffRow) -> Iterator[str]:
    if row.tag == "equal":
        yield f"  {row.a}".rstrip()  # a blank line between blocks stays blank
    elif row.tag == "removed":
        yield f"- {row.a}"
    elif row.tag == "added":
        yield f"+ {row.b}"
    else:
        yield f"- {_marked(row.a_spans, '[-', '-]')}"
        yield f"+ {_marked(row.b_spans, '{+', '+}')}"


def text_lines(diff: TextDiff, context: int = CONTEXT) -> Iterator[str]:
    """The rows of a text diff, unified; runs of equal lines far from a change counted."""
    rows = diff.rows
    near = {
        i
        for i, row in enumerate(rows)
        if row.tag != "equal"
        for i in range(max(0, i - context), min(len(rows), i + context + 1))
    }
    skipped = 0
    for i, row in enumerate(rows):
        if i not in near:
            skipped += 1
            continue
        if skipped:
            yield f"  ... {skipped} equal line{'s' if skipped > 1 else ''}"
            skipped = 0
        yield from _row_lines(row)
    if skipped:
        yield f"  ... {skipped} equal line{'s' if skipped > 1 else ''}"


def _one_line(value: str | None) -> str:
    """An input's value on one line: a text input may hold several."""
    return (value or "").replace("\r", "\\r").replace("\n", "\\n")


def _task_title(task: TaskDiff) -> str:
    what = {
        "equal": "unchanged",
        "changed": "changed",
        "added": "only in B",
        "removed": "only in A",
    }[task.status]
    times = f"{seconds_text(task.a_seconds)} -> {seconds_text(task.b_seconds)}"
    return f"task {task.name}: {what} ({times})"


def _text_section(title: str, diff: TextDiff) -> Iterator[str]:
    if diff.a_missing and diff.b_missing:
        return
    if not diff.changed:
        yield f"{title}: unchanged"
        return
    missing = " (none in A)" if diff.a_missing else " (none in B)" if diff.b_missing else ""
    yield f"{title}: changed{missing}"
    yield from text_lines(diff)


def diff_lines(diff: RunDiff) -> Iterator[str]:
    """The whole diff as lines for a terminal (or a pipe: no colours, no escapes)."""
    yield f"diff of crew {diff.b.crew}: A is the first run, B the second"
    yield _side_line("A", diff.a)
    yield _side_line("B", diff.b)
    yield ""
    yield from (_field_line(f) for f in diff.fields)
    yield ""
    changed_inputs = [i for i in diff.inputs if i.status != "equal"]
    yield f"inputs: {'changed' if changed_inputs else 'unchanged'}"
    for change in diff.inputs:
        a, b = _one_line(change.a), _one_line(change.b)
        if change.status == "equal":
            yield f"  {change.key}: {a}"
        if change.status in ("changed", "removed"):
            yield f"- {change.key}: {a}"
        if change.status in ("changed", "added"):
            yield f"+ {change.key}: {b}"
    for task in diff.tasks:
        yield ""
        yield _task_title(task)
        if task.status != "equal":
            yield from text_lines(task.text)
    yield ""
    yield from _text_section("output", diff.output)
    error = list(_text_section("error", diff.error))
    if error:
        yield ""
        yield from error
    yield ""
    yield "the runs differ" if diff.changed else "the runs are the same"
