"""Mapping between store rows (sqlite3.Row) and core values. Pure functions, no I/O."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from crewdash.aop.models import RunResult, RunState, TaskOutput
from crewdash.core.models import (
    AnswerOutcome,
    DecisionRecord,
    HumanRequest,
    KickoffPhase,
    RequestSource,
    RunRecord,
    StateChange,
)


def dumps(value: Any) -> str:
    # sort_keys: stable bytes make rows comparable; default=str keeps an odd input value
    # (a date, a Path) storable instead of failing the kickoff.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def result_to_json(result: RunResult | None) -> str | None:
    if result is None:
        return None
    return dumps(
        {
            "output": result.output,
            "tasks": [
                {
                    "task_id": t.task_id,
                    "output": t.output,
                    "agent": t.agent,
                    "execution_time": t.execution_time,
                }
                for t in result.tasks
            ],
        }
    )


def result_from_json(text: str | None) -> RunResult | None:
    if text is None:
        return None
    data = json.loads(text)
    return RunResult(
        output=data.get("output", ""),
        tasks=tuple(
            TaskOutput(
                task_id=t.get("task_id", ""),
                output=t.get("output", ""),
                agent=t.get("agent", ""),
                execution_time=t.get("execution_time"),
            )
            for t in data.get("tasks", [])
        ),
    )


def _state(value: str) -> RunState:
    try:
        return RunState(value)
    except ValueError:  # written by a newer crewdash: show it as unknown, do not crash
        return RunState.UNKNOWN


def run_from_row(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        local_id=row["local_id"],
        crew=row["crew"],
        inputs=json.loads(row["inputs_json"]),
        request_id=row["request_id"],
        created_at=row["created_at"],
        phase=KickoffPhase(row["phase"]),
        kickoff_id=row["kickoff_id"],
        state=_state(row["state"]),
        raw_state=row["raw_state"],
        current_task=row["current_task"],
        completed_tasks=row["completed_tasks"],
        total_tasks=row["total_tasks"],
        result=result_from_json(row["result_json"]),
        error=row["error"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        webhooks=json.loads(row["webhooks_json"]),
        stalled=bool(row["stalled"]),
        offline_since=row["offline_since"],
        note=row["note"],
        attempts=row["attempts"],
        sent_at=row["sent_at"],
        owner=row["owner"],
    )


def change_from_row(row: sqlite3.Row) -> StateChange:
    return StateChange(
        local_id=row["local_id"],
        at=row["at"],
        raw_state=row["raw_state"],
        state=_state(row["state"]),
        current_task=row["current_task"],
        detail=row["detail"],
    )


REQUEST_COLUMNS = (
    "id",
    "crew",
    "source",
    "received_at",
    "kickoff_id",
    "local_id",
    "task_id",
    "prompt",
    "output",
    "context",
    "emit_json",
    "callback_url",
    "sla_minutes",
    "assigned_to",
    "answered",
    "attempt",
    "flow_request_id",
    "flow",
)


def request_to_params(req: HumanRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "crew": req.crew,
        "source": str(req.source),
        "received_at": req.received_at,
        "kickoff_id": req.kickoff_id,
        "local_id": req.local_id,
        "task_id": req.task_id,
        "prompt": req.prompt,
        "output": req.output,
        "context": req.context,
        "emit_json": dumps(list(req.emit)),
        "callback_url": req.callback_url,
        "sla_minutes": req.sla_minutes,
        "assigned_to": req.assigned_to,
        "answered": str(req.answered) if req.answered is not None else None,
        "attempt": req.attempt,
        "flow_request_id": req.flow_request_id,
        "flow": int(req.flow),
    }


def request_from_row(row: sqlite3.Row) -> HumanRequest:
    return HumanRequest(
        id=row["id"],
        crew=row["crew"],
        source=RequestSource(row["source"]),
        received_at=row["received_at"],
        kickoff_id=row["kickoff_id"],
        local_id=row["local_id"],
        task_id=row["task_id"],
        prompt=row["prompt"],
        output=row["output"],
        context=row["context"],
        emit=tuple(json.loads(row["emit_json"])),
        callback_url=row["callback_url"],
        sla_minutes=row["sla_minutes"],
        assigned_to=row["assigned_to"],
        answered=AnswerOutcome(row["answered"]) if row["answered"] is not None else None,
        attempt=row["attempt"],
        flow_request_id=row["flow_request_id"],
        flow=bool(row["flow"]),
    )


def decision_record_from_row(row: sqlite3.Row) -> DecisionRecord:
    """A decision joined with its request (`kickoff_id`, `task_id`, `attempt`)."""
    approve = row["approve"]
    return DecisionRecord(
        id=row["id"],
        at=row["at"],
        request_id=row["request_id"],
        kickoff_id=row["kickoff_id"],
        task_id=row["task_id"],
        attempt=row["attempt"],
        user=row["user"],
        feedback=row["feedback"],
        approve=None if approve is None else bool(approve),
        outcome=row["choice"],
        channel=row["channel"],
        result=AnswerOutcome(row["outcome"]),
        server_answer=row["server_answer"],
        answered_at=row["answered_at"],
        origin=row["origin"] or "",  # NULL: written before v9 recorded it
    )


def decision_from_row(row: sqlite3.Row) -> dict[str, Any]:
    approve = row["approve"]
    return {
        "id": row["id"],
        "request_id": row["request_id"],
        "user": row["user"],
        "at": row["at"],
        "feedback": row["feedback"],
        "approve": None if approve is None else bool(approve),
        "outcome_choice": row["choice"],
        "channel": row["channel"],
        "outcome": AnswerOutcome(row["outcome"]),
        "server_answer": row["server_answer"],
        "answered_at": row["answered_at"],
    }
