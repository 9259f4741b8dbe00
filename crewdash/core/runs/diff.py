"""Two stored runs compared: what went in (inputs), how they went (state, duration, kickoff
attempts, human decisions) and what came out (each task's output, the final output, the error).

Tasks are matched by name (the task id the server reports), in order: a task that only one run
has shows as added (only in B) or removed (only in A). Texts are compared as Markdown
(`text_diff`). The result is plain data both front ends draw: `crewdash diff` and the TUI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from crewdash.core.models import RunRecord
from crewdash.core.runs.text_diff import TextDiff, diff_text

Status = Literal["equal", "changed", "added", "removed"]


@dataclass(frozen=True, slots=True)
class RunSide:
    """What the diff shows of one run in its head."""

    local_id: str
    crew: str
    kickoff_id: str | None
    phase: str
    state: str
    raw_state: str
    created_at: float
    duration: float | None  # seconds, once the run ended (`RunRecord.duration`)
    progress: tuple[int, int] | None
    attempts: int  # kickoff requests sent
    decisions: int | None  # human-input answers given (None: not counted)

    @classmethod
    def of(cls, run: RunRecord, decisions: int | None = None) -> RunSide:
        return cls(
            local_id=run.local_id,
            crew=run.crew,
            kickoff_id=run.kickoff_id,
            phase=str(run.phase),
            state=str(run.state),
            raw_state=run.raw_state,
            created_at=run.created_at,
            duration=run.duration,
            progress=run.progress,
            attempts=run.attempts,
            decisions=decisions,
        )


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One value of the head compared (state, duration, ...)."""

    name: str
    a: Any
    b: Any

    @property
    def changed(self) -> bool:
        return bool(self.a != self.b)


@dataclass(frozen=True, slots=True)
class InputChange:
    """One input compared; `a`/`b` are the values as text (None: not given in that run)."""

    key: str
    status: Status
    a: str | None
    b: str | None


@dataclass(frozen=True, slots=True)
class TaskDiff:
    """One task's output compared; the seconds are the task's execution time, when known."""

    name: str
    status: Status
    a_seconds: float | None
    b_seconds: float | None
    text: TextDiff


@dataclass(frozen=True, slots=True)
class RunDiff:
    a: RunSide
    b: RunSide
    fields: tuple[FieldChange, ...]
    inputs: tuple[InputChange, ...]
    tasks: tuple[TaskDiff, ...]
    output: TextDiff  # the final output (the result's `output`)
    error: TextDiff

    @property
    def changed(self) -> bool:
        return (
            any(f.changed for f in self.fields)
            or any(i.status != "equal" for i in self.inputs)
            or any(t.status != "equal" for t in self.tasks)
            or self.output.changed
            or self.error.changed
        )


def value_text(value: Any) -> str:
    """An input's value as the diff shows it: a string as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def diff_inputs(a: dict[str, Any], b: dict[str, Any]) -> tuple[InputChange, ...]:
    """Every input of either run, A's keys in their order first, then those only B has."""
    out: list[InputChange] = []
    for key in [*a, *(k for k in b if k not in a)]:
        if key not in b:
            out.append(InputChange(key, "removed", value_text(a[key]), None))
        elif key not in a:
            out.append(InputChange(key, "added", None, value_text(b[key])))
        else:
            status: Status = "equal" if a[key] == b[key] else "changed"
            out.append(InputChange(key, status, value_text(a[key]), value_text(b[key])))
    return tuple(out)


def _task_diff(name: str, a: Any | None, b: Any | None) -> TaskDiff:
    text = diff_text(a.output if a else None, b.output if b else None)
    status: Status = (
        "added" if a is None else "removed" if b is None else "changed" if text.changed else "equal"
    )
    return TaskDiff(
        name,
        status,
        a.execution_time if a else None,
        b.execution_time if b else None,
        text,
    )


def diff_tasks(run_a: RunRecord, run_b: RunRecord) -> tuple[TaskDiff, ...]:
    """The tasks of both runs matched by name, in order (difflib on the names: a repeated
    name pairs with its next occurrence); unmatched ones are added or removed."""
    tasks_a = list(run_a.result.tasks) if run_a.result else []
    tasks_b = list(run_b.result.tasks) if run_b.result else []
    names_a = [t.task_id.strip() for t in tasks_a]
    names_b = [t.task_id.strip() for t in tasks_b]
    out: list[TaskDiff] = []
    matcher = SequenceMatcher(None, names_a, names_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(
                _task_diff(names_a[i], tasks_a[i], tasks_b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        out.extend(_task_diff(names_a[i], tasks_a[i], None) for i in range(i1, i2))
        out.extend(_task_diff(names_b[j], None, tasks_b[j]) for j in range(j1, j2))
    return tuple(out)


def _fields(a: RunSide, b: RunSide) -> tuple[FieldChange, ...]:
    return (
        FieldChange("state", a.state, b.state),
        FieldChange("duration", a.duration, b.duration),
        FieldChange("progress", a.progress, b.progress),
        FieldChange("attempts", a.attempts, b.attempts),
        FieldChange("decisions", a.decisions, b.decisions),
    )


def diff_runs(
    run_a: RunRecord,
    run_b: RunRecord,
    *,
    decisions_a: int | None = None,
    decisions_b: int | None = None,
) -> RunDiff:
    """Compare run A (the base) with run B. `decisions_*`: how many human decisions each run
    had (the store's `decisions_for_run`), when the caller counted them."""
    side_a, side_b = RunSide.of(run_a, decisions_a), RunSide.of(run_b, decisions_b)
    return RunDiff(
        a=side_a,
        b=side_b,
        fields=_fields(side_a, side_b),
        inputs=diff_inputs(run_a.inputs, run_b.inputs),
        tasks=diff_tasks(run_a, run_b),
        output=diff_text(
            run_a.result.output if run_a.result else None,
            run_b.result.output if run_b.result else None,
        ),
        error=diff_text(run_a.error, run_b.error, markdown=False),
    )
