"""Runs, statuses and input specs as JSON objects (`--json`) and as human lines."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from crewdash.aop.models import InputSpec, RunResult, RunStatus
from crewdash.commands.support.time import local_clock
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.export import iso


def result_json(result: RunResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"output": result.output, "tasks": [asdict(task) for task in result.tasks]}


def _progress(done: int | None, total: int | None) -> dict[str, int] | None:
    if done is None or total is None:
        return None
    return {"completed_tasks": done, "total_tasks": total}


def run_json(run: RunRecord, *, type_: str = "run") -> dict[str, Any]:
    return {
        "type": type_,
        "local_id": run.local_id,
        "crew": run.crew,
        "kickoff_id": run.kickoff_id,
        "phase": str(run.phase),
        "attempts": run.attempts,
        "state": str(run.state),
        "raw_state": run.raw_state,
        "final": run.is_final,
        "current_task": run.current_task,
        "progress": _progress(*(run.progress or (None, None))),
        "error": run.error,
        "note": run.note,
        "stalled": run.stalled,
        "offline_since": iso(run.offline_since),
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at) if run.updated_at else None,
        "finished_at": iso(run.finished_at),
        "duration_seconds": None if run.duration is None else round(run.duration, 3),
        "inputs": run.inputs,
        "result": result_json(run.result),
    }


def run_state_word(run: RunRecord) -> str:
    if run.phase is not KickoffPhase.ACCEPTED:
        return f"kickoff {run.phase}"
    return str(run.state) if run.raw_state == str(run.state) else f"{run.state} ({run.raw_state})"


def run_line(run: RunRecord, at: float | None = None) -> str:
    """One run in a line, led by `at` (a progress line: when the change was observed) or,
    by default, by when the run was started (a listing)."""
    parts = [
        local_clock(run.created_at if at is None else at),
        run.crew,
        run.kickoff_id or f"(local {run.local_id})",
        run_state_word(run),
    ]
    if run.progress is not None:
        parts.append(f"{run.progress[0]}/{run.progress[1]}")
    if run.current_task and not run.is_final:
        parts.append(f"task {run.current_task}")
    if run.duration is not None:
        parts.append(f"took {run.duration:.1f}s")
    if run.stalled:
        parts.append("[stalled]")
    if run.offline_since is not None:
        parts.append(f"[crew offline since {local_clock(run.offline_since)}]")
    if run.error:
        parts.append(f"- {run.error}")
    if run.note:
        parts.append(f"({run.note})")
    return "  ".join(parts)


def status_json(crew: str, kickoff_id: str, status: RunStatus) -> dict[str, Any]:
    return {
        "type": "status",
        "crew": crew,
        "kickoff_id": kickoff_id,
        "state": str(status.state),
        "raw_state": status.raw_state,
        "final": status.state.is_final,
        "current_task": status.current_task,
        "progress": _progress(
            status.progress.completed_tasks if status.progress else None,
            status.progress.total_tasks if status.progress else None,
        ),
        "error": status.error,
        "execution_time": status.execution_time,
        "pending_task_id": status.pending_task_id,
        "pending_prompt": status.pending_prompt,
        "pending_output": status.pending_output,
        "result": result_json(status.result),
    }


def status_lines(crew: str, kickoff_id: str, status: RunStatus) -> list[str]:
    state = str(status.state)
    if status.raw_state != state:
        state += f" ({status.raw_state})"
    lines = [f"{crew} {kickoff_id}: {state}"]
    if status.progress:
        lines.append(
            f"  progress: {status.progress.completed_tasks}/{status.progress.total_tasks} tasks"
        )
    if status.current_task and not status.state.is_final:
        lines.append(f"  current task: {status.current_task}")
    if status.pending_task_id:
        lines.append(f"  waiting for human input on task {status.pending_task_id}")
        if status.pending_prompt:
            lines.append(f"  prompt: {status.pending_prompt}")
        lines.append(
            f"  answer: crewdash resume {crew} {kickoff_id} --task {status.pending_task_id} "
            "(--approve|--reject) --feedback TEXT"
        )
    if status.error:
        lines.append(f"  error: {status.error}")
    if status.execution_time is not None:
        lines.append(f"  execution time: {status.execution_time:.1f}s")
    if status.result is not None:
        lines.append("  output:")
        lines.extend("    " + line for line in status.result.output.splitlines() or [""])
    return lines


def spec_json(crew: str, spec: InputSpec) -> dict[str, Any]:
    return {
        "type": "input",
        "crew": crew,
        "name": spec.name,
        "input_type": str(spec.type),
        "raw_type": spec.raw_type,
        "required": spec.required,
        "default": spec.default,
        "description": spec.description,
        "choices": list(spec.choices),
    }


def spec_line(spec: InputSpec) -> str:
    kind = str(spec.type)
    if spec.raw_type and spec.raw_type != kind:
        kind += f" ({spec.raw_type})"
    parts = [spec.name, kind, "required" if spec.required else "optional"]
    if spec.choices:
        parts.append("one of: " + ", ".join(spec.choices))
    if spec.default is not None:
        parts.append(f"default: {spec.default!r}")
    if spec.description:
        parts.append(f"- {spec.description}")
    return "  ".join(parts)
