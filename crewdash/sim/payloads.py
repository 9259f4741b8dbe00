"""The JSON bodies the simulator answers and delivers, built from a run's snapshot."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from crewdash.sim.runs import Event, Run, Snapshot
from crewdash.sim.scenario import CrewSpec, FlowWebhook


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat().replace("+00:00", "Z")


def status_body(run: Run, snap: Snapshot, crew: CrewSpec, now: float) -> dict[str, Any]:
    """`GET /status/{id}` for one run, in the crew's dialect."""
    total = len(run.tasks)
    progress = {"completed_tasks": len(snap.completed), "total_tasks": total}
    if snap.state == "pending":
        return {"status": "pending", "progress": progress}
    if snap.state == "running":
        return {
            "status": "running",
            "current_task": run.tasks[snap.task_index].id,
            "progress": progress,
        }
    if snap.state == "paused":
        task = run.tasks[snap.task_index]
        body: dict[str, Any] = {
            "status": crew.pause_state,
            "current_task": task.id,
            "progress": progress,
            "task_id": task.id,
            "agent": task.agent,
            "prompt": run.prompt(snap.task_index),
            "output": snap.pause_output,
        }
        if task.emit:
            body["message"] = body["prompt"]
            body["emit"] = list(task.emit)
        return body
    elapsed = round((snap.ended_at if snap.ended_at is not None else now) - run.created, 3)
    if snap.state == "completed":
        return {
            "status": "completed",
            "result": {
                "output": run.final_output(snap),
                "tasks": [
                    {
                        "task_id": t.task_id,
                        "output": t.output,
                        "agent": t.agent,
                        "execution_time": t.execution_time,
                    }
                    for t in snap.completed
                ],
            },
            "execution_time": elapsed,
        }
    if snap.state == "error":
        return {"status": "error", crew.error_field: snap.error, "execution_time": elapsed}
    return {"status": "stopped", "execution_time": elapsed}


def _common(run: Run, wall: float) -> dict[str, Any]:
    return {
        "kickoff_id": run.kickoff_id,
        "execution_id": run.kickoff_id,
        "timestamp": iso(wall),
        "meta": run.meta,
    }


def simple_webhook(run: Run, event: Event, wall: float, crew: CrewSpec) -> dict[str, Any]:
    """taskWebhookUrl / stepWebhookUrl / crewWebhookUrl bodies."""
    body = _common(run, wall)
    if event.kind == "step":
        task = run.tasks[event.task_index]
        body.update(task_id=task.id, agent=task.agent, step=event.step)
        body.update(_step_body(run, event, task.id, task.steps))
    elif event.kind == "task":
        task = run.tasks[event.task_index]
        body.update(task_id=task.id, agent=task.agent, output=run.task_output(event.task_index))
        if task.human_input:
            body.update(
                status=crew.pause_state,
                human_input_required=True,
                prompt=run.prompt(event.task_index),
            )
        else:
            body["status"] = "completed"
    else:  # crew
        snap = run.snapshot(event.at)
        body.update(status_body(run, snap, crew, event.at))
    return body


#: the tools a simulated agent calls, in turn (a step that is not the task's last calls one)
_TOOLS = ("search_web", "read_file", "summarize")


def _step_body(run: Run, event: Event, task_id: str, steps: int) -> dict[str, Any]:
    """What CrewAI's step callback carries: an agent action (a thought and a tool call with its
    input and result) for every step but the task's last, which is the agent's final answer."""
    thought = f"Thought: working on `{task_id}`, step {event.step} of {steps}."
    if event.step < steps:
        tool = _TOOLS[(event.task_index + event.step) % len(_TOOLS)]
        tool_input = {"query": f"{task_id} {' '.join(str(v) for v in run.inputs.values())}"[:80]}
        return {
            "thought": thought,
            "tool": tool,
            "tool_input": tool_input,
            "result": f"{tool} found 3 items for step {event.step}.",
            "text": f"{thought}\nAction: {tool}",
        }
    return {
        "thought": thought,
        "output": f"Final answer of `{task_id}` ready.",
        "text": f"{thought}\nFinal Answer: ready",
    }


_STREAM_TYPES = {
    "step": "agent_step",
    "task": "task_completed",
    "pause": "human_feedback_requested",
}


def stream_event(
    run: Run, event: Event, wall: float, crew: CrewSpec, rng: random.Random
) -> dict[str, Any]:
    """One item of an event-streaming delivery (`webhooks` in the kickoff)."""
    kind = _STREAM_TYPES.get(event.kind)
    if kind is None:
        kind = "crew_kickoff_failed" if event.task_index >= 0 else "crew_kickoff_completed"
    data = simple_webhook(run, event, wall, crew)
    for key in ("kickoff_id", "execution_id", "timestamp"):
        data.pop(key, None)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "execution_id": run.kickoff_id,
        "timestamp": iso(wall),
        "type": kind,
        "data": data,
    }


def human_input(run: Run, event: Event, wall: float) -> dict[str, Any]:
    """The crew HITL delivery to `humanInputWebhook`."""
    task = run.tasks[event.task_index]
    output = run.task_output(event.task_index)
    body = _common(run, wall)
    body.update(
        task_id=task.id,
        agent=task.agent,
        prompt=run.prompt(event.task_index),
        output=output,
        context=output,
    )
    return body


def flow_request(
    run: Run, index: int, event_type: str, callback_url: str, hook: FlowWebhook
) -> dict[str, Any]:
    """A flow HITL delivery (`new_request` or `escalation`), signed by the sender."""
    task = run.tasks[index]
    return {
        "event_type": event_type,
        "id": f"{run.kickoff_id}:{task.id}:{run.attempt}",
        "kickoff_id": run.kickoff_id,
        "execution_id": run.kickoff_id,
        "task_id": task.id,
        "message": run.prompt(index),
        "output": run.task_output(index),
        "emit": list(task.emit),
        "state": {"inputs": run.inputs, "step": task.id, "attempt": run.attempt},
        "callback_url": callback_url,
        "sla_target_minutes": hook.sla_target_minutes,
        "assigned_to": hook.assigned_to,
        "meta": run.meta,
    }
