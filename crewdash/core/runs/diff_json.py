"""A run diff as JSON (`crewdash diff --json`): plain dicts and lists, times in ISO 8601."""

from __future__ import annotations

from typing import Any

from crewdash.core.runs.diff import RunDiff, RunSide
from crewdash.core.runs.export import iso
from crewdash.core.runs.text_diff import Span, TextDiff


def _spans(spans: tuple[Span, ...]) -> list[dict[str, Any]]:
    return [{"text": s.text, "changed": s.changed} for s in spans]


def text_diff_json(diff: TextDiff) -> dict[str, Any]:
    """Counts first (what a script usually wants), then every row; word marks on changed
    rows only."""
    rows: list[dict[str, Any]] = []
    for row in diff.rows:
        item: dict[str, Any] = {"tag": row.tag, "a": row.a, "b": row.b}
        if row.tag == "changed":
            item["a_spans"], item["b_spans"] = _spans(row.a_spans), _spans(row.b_spans)
        rows.append(item)
    return {
        "changed": diff.changed,
        "a_missing": diff.a_missing,
        "b_missing": diff.b_missing,
        "added": diff.count("added"),
        "removed": diff.count("removed"),
        "changed_lines": diff.count("changed"),
        "rows": rows,
    }


def side_json(side: RunSide) -> dict[str, Any]:
    return {
        "local_id": side.local_id,
        "crew": side.crew,
        "kickoff_id": side.kickoff_id,
        "phase": side.phase,
        "state": side.state,
        "raw_state": side.raw_state,
        "created_at": iso(side.created_at),
        "duration_seconds": None if side.duration is None else round(side.duration, 3),
        "progress": list(side.progress) if side.progress else None,
        "attempts": side.attempts,
        "decisions": side.decisions,
    }


def _value(value: Any) -> Any:
    """A field's value in JSON: seconds to the millisecond, (done, total) as a list."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, tuple):
        return list(value)
    return value


def diff_json(diff: RunDiff) -> dict[str, Any]:
    """The whole diff, `"type": "diff"`, as one JSON object."""
    return {
        "type": "diff",
        "changed": diff.changed,
        "a": side_json(diff.a),
        "b": side_json(diff.b),
        "fields": [
            {"name": f.name, "a": _value(f.a), "b": _value(f.b), "changed": f.changed}
            for f in diff.fields
        ],
        "inputs": [{"key": i.key, "status": i.status, "a": i.a, "b": i.b} for i in diff.inputs],
        "tasks": [
            {
                "name": t.name,
                "status": t.status,
                "a_seconds": t.a_seconds,
                "b_seconds": t.b_seconds,
                "output": text_diff_json(t.text),
            }
            for t in diff.tasks
        ],
        "output": text_diff_json(diff.output),
        "error": text_diff_json(diff.error),
    }
