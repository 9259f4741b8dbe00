"""Export runs as JSON, CSV or Markdown: inputs, states, timings, result, per-task outputs.

Only what the store holds goes out, and the store holds no token. Webhook URLs are left out
too: an export is made to be shared, and a receiver URL is nobody else's business.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from crewdash.core.models import RunRecord

if TYPE_CHECKING:
    from crewdash.core.store.database import RunStore

Format = Literal["json", "csv", "markdown"]
FORMATS: tuple[str, ...] = ("json", "csv", "markdown")

CSV_COLUMNS = (
    "local_id",
    "crew",
    "kickoff_id",
    "request_id",
    "phase",
    "state",
    "raw_state",
    "created_at",
    "finished_at",
    "duration_seconds",
    "progress",
    "inputs",
    "output",
    "tasks",
    "error",
    "note",
)

# A spreadsheet opening the CSV runs a cell starting with one of these as a formula (OWASP
# "CSV injection"), e.g. an error text `=HYPERLINK(...)` sent by the server.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The CSV columns holding text from the server or the operator. crewdash's own columns (its
# ids, enum states, timestamps, duration_seconds, the note's fixed words) are never guarded, so
# a negative duration stays a number. inputs/tasks are JSON ({ or [ first) and listed anyway.
CSV_GUARDED_COLUMNS = frozenset(
    {"crew", "kickoff_id", "raw_state", "inputs", "output", "tasks", "error"}
)

# The Markdown field table: the flat CSV columns; the heading carries crew and local_id, and
# progress, inputs, output and tasks get their own lines and sections.
_MARKDOWN_FIELDS = tuple(
    k for k in CSV_COLUMNS if k not in {"local_id", "crew", "progress", "inputs", "output", "tasks"}
)


def iso(ts: float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC timestamp ("…Z"), the form exports and --json use."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_as_dict(run: RunRecord, store: RunStore | None = None) -> dict[str, Any]:
    """The exported shape of one run (JSON; CSV and Markdown are views of it)."""
    duration = None if run.duration is None else round(run.duration, 3)
    data: dict[str, Any] = {
        "local_id": run.local_id,
        "crew": run.crew,
        "kickoff_id": run.kickoff_id,
        "request_id": run.request_id,
        "phase": str(run.phase),
        "state": str(run.state),
        "raw_state": run.raw_state,
        "created_at": iso(run.created_at),
        "finished_at": iso(run.finished_at),
        "duration_seconds": duration,
        "progress": (
            None
            if run.progress is None
            else {"completed_tasks": run.progress[0], "total_tasks": run.progress[1]}
        ),
        "inputs": run.inputs,
        "output": run.result.output if run.result else None,
        "tasks": [
            {
                "task_id": t.task_id,
                "agent": t.agent,
                "execution_time": t.execution_time,
                "output": t.output,
            }
            for t in (run.result.tasks if run.result else ())
        ],
        "error": run.error,
        "note": run.note,
    }
    if store is not None:
        data["history"] = [
            {
                "at": iso(h.at),
                "state": str(h.state),
                "raw_state": h.raw_state,
                "current_task": h.current_task,
                "detail": h.detail,
            }
            for h in store.history(run.local_id)
        ]
    return data


def export_runs(runs: Iterable[RunRecord], fmt: Format, store: RunStore | None = None) -> str:
    """Render runs; `store` adds each run's state history (JSON and Markdown).

    CSV only: a server or operator text cell (CSV_GUARDED_COLUMNS) starting with = + - @ tab
    or CR is prefixed with `'`, so a spreadsheet does not run it as a formula.
    """
    rows = [run_as_dict(r, store) for r in runs]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(rows)
    if fmt == "markdown":
        return _markdown(rows)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        for key in ("inputs", "tasks", "progress"):  # nested values as compact JSON cells
            flat[key] = "" if row[key] in (None, []) else json.dumps(row[key], ensure_ascii=False)
        for key in CSV_GUARDED_COLUMNS:
            value = flat.get(key)
            if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
                flat[key] = "'" + value
        writer.writerow({k: "" if flat.get(k) is None else flat[k] for k in CSV_COLUMNS})
    return out.getvalue()


def _fence(text: str) -> str:
    # A fence longer than any backtick run inside, so an output with ``` cannot break out.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text}\n{ticks}"


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _markdown(rows: list[dict[str, Any]]) -> str:
    parts = [f"# crewdash runs ({len(rows)})", ""]
    for row in rows:
        parts += [f"## {row['crew']} · {row['local_id']}", ""]
        parts += ["| field | value |", "|---|---|"]
        for key in _MARKDOWN_FIELDS:
            if row[key] is not None:
                parts.append(f"| {key} | {_cell(row[key])} |")
        if row["progress"]:
            p = row["progress"]
            parts.append(f"| progress | {p['completed_tasks']}/{p['total_tasks']} |")
        parts += ["", "### Inputs", "", _fence(json.dumps(row["inputs"], indent=2)), ""]
        if row["output"] is not None:
            parts += ["### Result", "", _fence(row["output"]), ""]
        for task in row["tasks"]:
            head = f"### Task {task['task_id']}"
            if task["agent"]:
                head += f" ({task['agent']})"
            if task["execution_time"] is not None:
                head += f", {task['execution_time']} s"
            parts += [head, "", _fence(task["output"]), ""]
        if row.get("history"):
            parts += ["### History", ""]
            for h in row["history"]:
                line = f"- {h['at']} {h['raw_state']}"
                if h["current_task"]:
                    line += f" — {h['current_task']}"
                if h["detail"]:
                    line += f": {h['detail']}"
                parts.append(line)
            parts.append("")
    return "\n".join(parts)
