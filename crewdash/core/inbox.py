"""The human-input inbox: every pending request, from every source, once.

Sources: a paused status seen by the monitor, a crew HITL webhook, a signed flow HITL webhook.
A flow pause seen both by polling and by its signed delivery is one entry: the delivery's (it
carries the callback), whichever came first.
Each becomes one HumanRequest (id `<kickoff_id>:<task_id>` for crews — `#2`, `#3` for later
rounds after a rejection —, the flow's request id for flows), stored before it is published.

Answering writes the audit row first, then sends through the request's channel (`/resume` with
the kickoff's webhook URLs, or the flow's `callback_url`), then records the outcome. One
crewdash never sends two answers to one request: an in-flight set guards concurrent calls and
the stored outcome guards later ones (only a FAILED send may be tried again).

A flow outcome travels as text: a callback answer and a `/resume` (a flow pause seen only by
polling) both carry it in the feedback, as `<outcome>` alone or `<outcome>: <feedback>`
(`answer_text`). `/resume` also needs `is_approve`: true unless the outcome is a rejection-like
word (`is_rejection`: reject, deny, decline, revise, retry, request changes, ...), so a
rejection re-runs the step; an explicit `approve` wins (`resume_answer`). The audit row keeps
the operator's own feedback, the chosen outcome and the `is_approve` sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from crewdash.aop.errors import (
    AlreadyAnsweredError,
    AOPError,
    NotFoundError,
    NotPausedError,
)
from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus
from crewdash.core.kickoff import webhooks_of
from crewdash.core.models import (
    AnswerOutcome,
    Decision,
    HumanRequest,
    InboxChanged,
    RequestSource,
    RunRecord,
)
from crewdash.core.timing import Clock, LoopClock

log = logging.getLogger(__name__)

ELSEWHERE_NOTE = "the run went on without an answer from this crewdash"


# Outcome names that mean "not accepted, do it again" (compared lower-case, `-`/space as `_`).
REJECTION_OUTCOMES = frozenset(
    {
        "reject",
        "rejected",
        "deny",
        "denied",
        "decline",
        "declined",
        "revise",
        "rework",
        "redo",
        "retry",
        "request_changes",
        "changes_requested",
        "needs_changes",
        "send_back",
    }
)


def is_rejection(outcome: str) -> bool:
    """Whether a flow outcome asks for the step to be done again."""
    name = outcome.strip().lower().replace("-", "_").replace(" ", "_")
    return name in REJECTION_OUTCOMES


def answer_text(feedback: str, outcome: str | None) -> str:
    """The text that carries an outcome: `<outcome>`, or `<outcome>: <feedback>`."""
    if not outcome:
        return feedback
    return f"{outcome}: {feedback}" if feedback else outcome


def resume_answer(feedback: str, approve: bool | None, outcome: str | None) -> tuple[str, bool]:
    """`(human_feedback, is_approve)` for `/resume`: see the module docstring."""
    if approve is None:
        approve = not (outcome and is_rejection(outcome))
    return answer_text(feedback, outcome), approve


class InboxError(Exception):
    """A request that cannot be answered now: unknown, or an answer already on its way."""


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


class Inbox:
    def __init__(
        self,
        store: Any,
        bus: EventBus,
        *,
        client_for: Callable[[str], Any],
        clock: Clock | None = None,
        refresh: Callable[[str], Awaitable[Any] | Any] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.client_for = client_for
        self.clock: Clock = clock or LoopClock()
        self.refresh = refresh  # called with a local id when a run should be polled now
        self._answering: set[str] = set()
        self._seen: dict[str, str] = {}  # base id -> output last seen, skips repeated polls
        self._paused: dict[str, str] = {}  # kickoff id -> crew, runs seen waiting

    def pending(self) -> list[HumanRequest]:
        return list(self.store.pending_requests())

    # --- sources -----------------------------------------------------------------------

    def seen_status(self, record: RunRecord, status: RunStatus) -> HumanRequest | None:
        """A status the monitor saw. A pause becomes a request; a run that went on closes
        the requests this crewdash did not answer (somebody else did)."""
        kickoff_id = record.kickoff_id
        if kickoff_id is None:
            return None
        if status.state is not RunState.AWAITING_INPUT:
            if kickoff_id in self._paused:
                del self._paused[kickoff_id]
                self._close_elsewhere(kickoff_id)
            return None
        self._paused[kickoff_id] = record.crew
        task_id = status.pending_task_id or status.current_task or "input"
        output = status.pending_output or ""
        base = f"{kickoff_id}:{task_id}"
        if self._seen.get(base) == output:
            return None
        self._seen[base] = output
        if self._flow_request_pending(kickoff_id):
            return None  # the signed flow delivery already stands for this pause
        req = HumanRequest(
            id=base,
            crew=record.crew,
            source=RequestSource.STATUS,
            received_at=self.clock.time(),
            kickoff_id=kickoff_id,
            local_id=record.local_id,
            task_id=task_id,
            prompt=status.pending_prompt or "",
            output=output,
            emit=status.pending_emit,  # a flow step: its outcomes, not approve/reject
        )
        return self._add_round(req)

    def seen_crew_webhook(self, crew: str, payload: Mapping[str, Any]) -> HumanRequest | None:
        """A crew HITL delivery (humanInputWebhook or a task webhook with a pause)."""
        kickoff_id = payload.get("kickoff_id") or payload.get("execution_id")
        task_id = payload.get("task_id")
        if not isinstance(kickoff_id, str) or not kickoff_id:
            return None
        task_id = task_id if isinstance(task_id, str) and task_id else "input"
        run = self.store.find_by_kickoff_id(crew, kickoff_id)
        output = payload.get("output", payload.get("task_output", payload.get("result")))
        req = HumanRequest(
            id=f"{kickoff_id}:{task_id}",
            crew=crew,
            source=RequestSource.CREW_WEBHOOK,
            received_at=self.clock.time(),
            kickoff_id=kickoff_id,
            local_id=run.local_id if run else None,
            task_id=task_id,
            prompt=_text(payload.get("prompt") or payload.get("message")),
            output=_text(output),
            context=_text(payload.get("context")),
        )
        self._paused[kickoff_id] = crew
        return self._add_round(req)

    def seen_flow_webhook(self, crew: str, payload: Mapping[str, Any]) -> HumanRequest | None:
        """A signed flow HITL delivery: `new_request` or `escalation`."""
        request_id = payload.get("id")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            return None
        emit = payload.get("emit")
        state = payload.get("state") if isinstance(payload.get("state"), dict) else {}
        kickoff_id = payload.get("execution_id") or payload.get("kickoff_id") or state.get("id")
        run = (
            self.store.find_by_kickoff_id(crew, kickoff_id) if isinstance(kickoff_id, str) else None
        )
        assigned = payload.get("assigned_to")
        req = HumanRequest(
            id=str(request_id),
            crew=crew,
            source=RequestSource.FLOW_WEBHOOK,
            received_at=self.clock.time(),
            kickoff_id=kickoff_id if isinstance(kickoff_id, str) else None,
            local_id=run.local_id if run else None,
            prompt=_text(payload.get("message")),
            output=_text(payload.get("output")),
            context=_text(state) if state else "",
            emit=tuple(str(e) for e in emit) if isinstance(emit, list) else (),
            callback_url=payload.get("callback_url")
            if isinstance(payload.get("callback_url"), str)
            else None,
            sla_minutes=_float(payload.get("sla_target_minutes")),
            assigned_to=_text(assigned) if assigned else None,
        )
        stored, _new = self.store.upsert_request(req)
        if stored.kickoff_id:
            self._supersede_polled(stored.kickoff_id)
        self.bus.publish(InboxChanged(stored))
        return stored

    def _flow_request_pending(self, kickoff_id: str) -> bool:
        return any(
            r.kickoff_id == kickoff_id and r.source is RequestSource.FLOW_WEBHOOK
            for r in self.store.pending_requests()
        )

    def _supersede_polled(self, kickoff_id: str) -> None:
        """A flow pause also seen by polling: the signed delivery (answered through its
        callback) replaces the polled entry, unless that one is already being answered."""
        for r in self.store.pending_requests():
            if (
                r.kickoff_id == kickoff_id
                and r.source is RequestSource.STATUS
                and r.id not in self._answering
            ):
                self.store.discard_request(r.id)

    def _add_round(self, req: HumanRequest) -> HumanRequest | None:
        """Store `req`, or a new round of it when the earlier round was answered and the
        server now shows a different output (a rejection re-ran the task)."""
        base, n = req.id, 1
        while True:
            rid = base if n == 1 else f"{base}#{n}"
            existing = self.store.get_request(rid)
            if existing is None or existing.answered is None:
                break
            if req.output == existing.output or not req.output:
                return None  # the round we already answered, seen again before it moved on
            n += 1
        stored, new = self.store.upsert_request(replace(req, id=rid))
        if new or req.source is not RequestSource.STATUS:
            self.bus.publish(InboxChanged(stored))
        return stored

    def _close_elsewhere(self, kickoff_id: str) -> None:
        for req in self.store.pending_requests():
            if (
                req.kickoff_id == kickoff_id
                and req.source is not RequestSource.FLOW_WEBHOOK
                and req.id not in self._answering
            ):
                did = self.store.record_decision(
                    Decision(req.id, "", user="(observed)", at=self.clock.time()), "observed"
                )
                self.store.record_outcome(did, AnswerOutcome.ANSWERED_ELSEWHERE, ELSEWHERE_NOTE)
                closed = self.store.get_request(req.id)
                if closed is not None:
                    self.bus.publish(InboxChanged(closed))

    # --- answering ---------------------------------------------------------------------

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        user: str = "",
    ) -> AnswerOutcome:
        """Send one answer. A request already answered returns its stored outcome and sends
        nothing; `approve=None` on a crew request means approve."""
        if request_id in self._answering:
            raise InboxError("an answer to this request is already being sent")
        req = self.store.get_request(request_id)
        if req is None:
            raise InboxError(f"no human-input request {request_id!r}")
        if req.answered is not None:
            return req.answered
        if req.emit and outcome is not None and outcome not in req.emit:
            raise InboxError(f"{outcome!r} is not one of {', '.join(req.emit)}")
        self._answering.add(request_id)
        try:
            return await self._send(req, feedback, approve, outcome, user)
        finally:
            self._answering.discard(request_id)

    async def _send(
        self,
        req: HumanRequest,
        feedback: str,
        approve: bool | None,
        outcome: str | None,
        user: str,
    ) -> AnswerOutcome:
        channel = "callback" if req.callback_url else "resume"
        human_feedback, is_approve = resume_answer(feedback, approve, outcome)
        sent_approve = approve if req.callback_url else is_approve
        decision = Decision(req.id, feedback, sent_approve, outcome, user, at=self.clock.time())
        decision_id = self.store.record_decision(decision, channel)
        run = self._run_of(req)
        result, said = AnswerOutcome.FAILED, ""
        try:
            client = self.client_for(req.crew)
            if req.callback_url:
                await client.answer_callback(req.callback_url, answer_text(feedback, outcome))
                result, said = AnswerOutcome.ACCEPTED, "accepted"
            else:
                if not req.kickoff_id or not req.task_id:
                    raise InboxError("this request names no run and task to resume")
                answer = await client.resume(
                    req.kickoff_id,
                    req.task_id,
                    human_feedback,
                    is_approve,
                    webhooks=webhooks_of(run) if run is not None else None,
                )
                result = AnswerOutcome.ACCEPTED
                said = f"{answer.status}: {answer.message}".strip(": ")
        except AlreadyAnsweredError as exc:
            result, said = AnswerOutcome.ANSWERED_ELSEWHERE, str(exc)
        except (NotPausedError, NotFoundError) as exc:
            result, said = AnswerOutcome.NOT_WAITING, str(exc)
        except (AOPError, InboxError) as exc:
            result, said = AnswerOutcome.FAILED, str(exc)
        except BaseException as exc:
            # Cancelled or a bug: the answer may or may not be on the wire; say so, allow retry.
            self.store.record_outcome(
                decision_id, AnswerOutcome.FAILED, f"interrupted ({type(exc).__name__})"
            )
            raise
        self.store.record_outcome(decision_id, result, said)
        stored = self.store.get_request(req.id)
        if stored is not None:
            self.bus.publish(InboxChanged(stored))
        if result is not AnswerOutcome.FAILED and run is not None and self.refresh is not None:
            outcome_of_refresh = self.refresh(run.local_id)
            if hasattr(outcome_of_refresh, "__await__"):
                await outcome_of_refresh
        return result

    def _run_of(self, req: HumanRequest) -> RunRecord | None:
        if req.local_id:
            run = self.store.get(req.local_id)
            if run is not None:
                return run
        if req.kickoff_id:
            found: RunRecord | None = self.store.find_by_kickoff_id(req.crew, req.kickoff_id)
            return found
        return None
