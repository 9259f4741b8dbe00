"""Which request a sighting of a pause is (`place`), and the sightings a webhook delivery
makes: pure functions, no store, no clock. See `crewdash.core.inbox.inbox` for the identity
rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from crewdash.core.models import HumanRequest, RequestSource
from crewdash.core.records import UNNAMED_TASK

# The local id of the run this crewdash knows by a kickoff id, if it knows one.
LocalIdOf = Callable[[str], str | None]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _task_named(*values: Any) -> str | None:
    return next((v for v in values if isinstance(v, str) and v), None)


def _emit(value: Any) -> tuple[str, ...]:
    return tuple(str(e) for e in value) if isinstance(value, list) else ()


def _round_id(kickoff_id: str, task_id: str, attempt: int) -> str:
    base = f"{kickoff_id}:{task_id}"
    return base if attempt == 1 else f"{base}#{attempt}"


def same_step(a: HumanRequest, b: HumanRequest) -> bool:
    """Whether two requests of one run may be the same step: the same task, or one unnamed."""
    return a.named_task is None or b.named_task is None or a.named_task == b.named_task


def place(sighting: HumanRequest, known: list[HumanRequest]) -> HumanRequest | None:
    """The request a sighting of a pause is: one of `known` (the requests of its run, and the
    one with its flow request id) enriched by it, a new one (a pause not seen before, or the
    next attempt of one already answered), or None (the round already answered, seen again
    before the run moved on). Pure: the store calls it inside one transaction.

    - The same flow request id is the same request.
    - Otherwise a request of the same run and step (a step no channel named matches any) that
      is still waiting is this pause, unless both carry different flow request ids.
    - The newest such request answered: a new flow request id, or (from polling and crew
      webhooks) a different output, is the next attempt; the same output is that round again.
    """
    fid = sighting.flow_request_id
    if fid is not None:
        for req in known:
            if req.flow_request_id == fid:
                return req.enriched(sighting)
    kickoff_id = sighting.kickoff_id
    if kickoff_id is None:  # a flow delivery naming no run: its own request
        return sighting if fid is not None and not any(r.id == fid for r in known) else None
    steps = [
        r
        for r in known
        if r.crew == sighting.crew and r.kickoff_id == kickoff_id and same_step(r, sighting)
    ]
    candidates = [r for r in steps if fid is None or r.flow_request_id is None]
    latest = max(candidates, key=lambda r: r.attempt, default=None)
    if latest is not None and latest.answered is None:
        return latest.enriched(sighting)
    if latest is not None and fid is None and sighting.output in ("", latest.output):
        return None
    attempt = 1 + max((r.attempt for r in steps), default=0)
    taken = {r.id for r in known}
    rid = fid or _round_id(kickoff_id, sighting.task_id or UNNAMED_TASK, attempt)
    while rid in taken:  # an old file's odd ids: never overwrite another request
        attempt += 1
        rid = _round_id(kickoff_id, sighting.task_id or UNNAMED_TASK, attempt)
    return replace(sighting, id=rid, attempt=attempt)


def crew_sighting(
    crew: str, payload: Mapping[str, Any], *, at: float, local_id_of: LocalIdOf, flow: bool
) -> HumanRequest | None:
    """The pause a crew HITL delivery reports (None: it names no run). `flow`: whether the
    crew is configured as a flow."""
    kickoff_id = crew_kickoff_id(payload)
    if kickoff_id is None:
        return None
    output = payload.get("output", payload.get("task_output", payload.get("result")))
    return HumanRequest(
        id="",
        crew=crew,
        source=RequestSource.CREW_WEBHOOK,
        received_at=at,
        kickoff_id=kickoff_id,
        local_id=local_id_of(kickoff_id),
        task_id=_task_named(payload.get("task_id")) or UNNAMED_TASK,
        prompt=_text(payload.get("prompt") or payload.get("message")),
        output=_text(output),
        context=_text(payload.get("context")),
        emit=_emit(payload.get("emit")),
        flow=flow,
    )


def crew_kickoff_id(payload: Mapping[str, Any]) -> str | None:
    """The run a crew HITL delivery names, if it names one."""
    kickoff_id = payload.get("kickoff_id") or payload.get("execution_id")
    return kickoff_id if isinstance(kickoff_id, str) and kickoff_id else None


def flow_state(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The flow's state a signed delivery carries (empty when it carries none)."""
    state = payload.get("state")
    return state if isinstance(state, dict) else {}


def flow_kickoff_id(payload: Mapping[str, Any]) -> str | None:
    """The run a signed flow delivery names, if it names one."""
    state = flow_state(payload)
    kickoff_id = payload.get("execution_id") or payload.get("kickoff_id") or state.get("id")
    return kickoff_id if isinstance(kickoff_id, str) and kickoff_id else None


def flow_sighting(
    crew: str, payload: Mapping[str, Any], *, at: float, local_id_of: LocalIdOf
) -> HumanRequest | None:
    """The request a signed flow HITL delivery (`new_request` or `escalation`) reports
    (None: it has no request id)."""
    request_id = payload.get("id")
    if not isinstance(request_id, str | int) or isinstance(request_id, bool):
        return None
    state = flow_state(payload)
    kickoff_id = flow_kickoff_id(payload)
    assigned = payload.get("assigned_to")
    callback = payload.get("callback_url")
    return HumanRequest(
        id=str(request_id),
        crew=crew,
        source=RequestSource.FLOW_WEBHOOK,
        received_at=at,
        kickoff_id=kickoff_id,
        local_id=local_id_of(kickoff_id) if kickoff_id else None,
        task_id=_task_named(
            payload.get("task_id"),
            payload.get("step"),
            state.get("step"),
            state.get("task_id"),
            state.get("current_task"),
        ),
        prompt=_text(payload.get("message")),
        output=_text(payload.get("output")),
        context=_text(state) if state else "",
        emit=_emit(payload.get("emit")),
        callback_url=callback if isinstance(callback, str) else None,
        sla_minutes=_float(payload.get("sla_target_minutes")),
        assigned_to=_text(assigned) if assigned else None,
        flow_request_id=str(request_id),
        flow=True,
    )
