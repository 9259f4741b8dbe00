"""The human-input inbox: every pending request, from every source, once.

Sources: a paused status seen by the monitor (or by `crewdash resume`), a crew HITL webhook
(humanInputWebhook, or a task webhook saying a task waits), a signed flow HITL webhook.

A request has one identity whatever channel reported it: (kickoff id, task, attempt) for a
pause of a run, the flow request id for a signed flow delivery. A pause that several channels
report is one request (`place`, applied by the store in one transaction, so two crewdash
processes sharing a store agree too): the first sighting fixes its id (`<kickoff_id>:<task_id>`,
`#2`, `#3` for later attempts after a rejection, or the flow request id when the signed
delivery came first); later sightings add to it (the flow request id and callback, outcomes,
the step's name, output, prompt, SLA) and never make another. Whether it is a flow's does not
depend on the channel: the crew's configured kind, outcomes (`emit`) or a flow delivery make it
one (`HumanRequest.is_flow`). Each is stored before it is published.

A request stops waiting when it is answered, when polling sees the run go on after seeing it
paused (somebody else answered), when a newer request of the same step replaces it, or when
the run is final (seen by polling, or found final in the store on start: `close_finished`).
Each of those is written to the audit trail as an "(observed)" decision with a note.

Answering writes the audit row first, then sends through the request's channel (`/resume` with
the kickoff's webhook URLs, or the flow's `callback_url`), then records the outcome. One
request gets one answer from all the crewdash processes sharing a store: the audit row is
written together with a claim of the request (`RunStore.claim_answer`); a second process finds
the claim (or the answer) and is told who answered, when and how (ANSWERED_ELSEWHERE, nothing
sent). Within one process an in-flight set guards concurrent calls; only a FAILED send may be
tried again (it drops its claim). The server is the judge between machines: its 409, and a
400 "not paused" for a pause this crewdash saw, also mean somebody else answered first.

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
import time
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
from crewdash.core.models import (
    AnswerOutcome,
    Decision,
    DecisionRecord,
    HumanRequest,
    InboxChanged,
    KickoffPhase,
    PauseIdentity,
    RequestSource,
    RunRecord,
)
from crewdash.core.records import UNNAMED_TASK, output_digest
from crewdash.core.runs.kickoff import webhooks_of
from crewdash.core.timing import Clock, LoopClock

log = logging.getLogger(__name__)

ELSEWHERE_NOTE = "the run went on without an answer from this crewdash"
REPLACED_NOTE = "a newer request of the same step replaced it: it was answered elsewhere"
OBSERVER = "(observed)"  # the user of a decision row that records a request seen closed


def _final_note(
    state: RunState, raw_state: str, phase: KickoffPhase | None = None
) -> tuple[AnswerOutcome, str]:
    """How a request of a run that has ended is closed."""
    if phase in (KickoffPhase.REFUSED, KickoffPhase.UNKNOWN):
        return AnswerOutcome.NOT_WAITING, f"the run's kickoff is {phase}: nothing waits"
    if state is RunState.COMPLETED:
        return (
            AnswerOutcome.ANSWERED_ELSEWHERE,
            "the run completed without an answer from this crewdash",
        )
    return AnswerOutcome.NOT_WAITING, f"the run ended ({raw_state}) while this request waited"


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


SOMEONE_ELSE = "someone else answered first"


def how_answered(decision: DecisionRecord) -> str:
    """Who answered, how and when, from the audit trail: for the process that lost."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(decision.at))
    if decision.user == OBSERVER:
        return f"the request was closed at {when}: {decision.server_answer or 'answered elsewhere'}"
    if decision.outcome:
        how = f"chose {decision.outcome}"
    elif decision.approve is False:
        how = "requested changes"
    elif decision.approve is True:
        how = "approved"
    else:
        how = "answered"
    said = " ".join(decision.feedback.split())
    if said:
        how += f' ("{said[:60]}{"…" if len(said) > 60 else ""}")'
    state = " (being sent)" if decision.result is AnswerOutcome.PENDING else ""
    return f"{SOMEONE_ELSE}: {decision.user} {how} at {when} via {decision.channel}{state}"


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


def _task_named(*values: Any) -> str | None:
    return next((v for v in values if isinstance(v, str) and v), None)


def _emit(value: Any) -> tuple[str, ...]:
    return tuple(str(e) for e in value) if isinstance(value, list) else ()


def _round_id(kickoff_id: str, task_id: str, attempt: int) -> str:
    base = f"{kickoff_id}:{task_id}"
    return base if attempt == 1 else f"{base}#{attempt}"


def _same_step(a: HumanRequest, b: HumanRequest) -> bool:
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
        if r.crew == sighting.crew and r.kickoff_id == kickoff_id and _same_step(r, sighting)
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


class Inbox:
    def __init__(
        self,
        store: Any,
        bus: EventBus,
        *,
        client_for: Callable[[str], Any],
        clock: Clock | None = None,
        refresh: Callable[[str], Awaitable[Any] | Any] | None = None,
        flow_crew: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.client_for = client_for
        self.clock: Clock = clock or LoopClock()
        self.refresh = refresh  # called with a local id when a run should be polled now
        self.flow_crew = flow_crew or (lambda _crew: False)  # configured kind = "flow"
        self._answering: set[str] = set()
        self._seen: dict[tuple[str, str], tuple[str, str]] = {}  # (kickoff, task) -> last poll
        self._paused: dict[str, float] = {}  # kickoff id -> when polling last saw it paused
        self._shown: dict[str, str] = {}  # request id -> kickoff id, announced as waiting
        self._answered_here: set[str] = set()  # request ids this inbox sent an answer for

    def pending(self) -> list[HumanRequest]:
        return list(self.store.pending_requests())

    # --- sources -----------------------------------------------------------------------

    def seen_status(self, record: RunRecord, status: RunStatus) -> HumanRequest | None:
        """A status the monitor saw. A pause becomes a request; a run that went on closes
        the requests of the pause polling saw (somebody else answered), a run that ended
        closes all of its requests."""
        if record.kickoff_id is None:
            return None
        return self.seen_polled(record.crew, record.kickoff_id, status, local_id=record.local_id)

    def seen_polled(
        self, crew: str, kickoff_id: str, status: RunStatus, *, local_id: str | None = None
    ) -> HumanRequest | None:
        """A polled status of a run (also one this crewdash did not start: `local_id` None)."""
        now = self.clock.time()
        if status.state.is_final:
            self._forget(kickoff_id)
            self._paused.pop(kickoff_id, None)
            self._close(crew, kickoff_id, _final_note(status.state, status.raw_state))
            self._answered_meanwhile(kickoff_id)
            return None
        if status.state is not RunState.AWAITING_INPUT:
            paused_at = self._paused.pop(kickoff_id, None)
            if paused_at is not None:
                self._forget(kickoff_id)
                # Only what came before polling saw the pause: a delivery of a newer pause may
                # have arrived while this (older) answer was on its way.
                self._close(crew, kickoff_id, ELSEWHERE_NOTE, received_by=paused_at)
            if kickoff_id in self._shown.values():
                self._answered_meanwhile(kickoff_id)
            return None
        self._paused[kickoff_id] = now
        task_id = status.pending_task_id or status.current_task or UNNAMED_TASK
        output = status.pending_output or ""
        key, seen = (kickoff_id, task_id), (output, ",".join(status.pending_emit))
        if self._seen.get(key) == seen:
            return None  # the same pause polled again: nothing new to store
        self._seen[key] = seen
        sighting = HumanRequest(
            id="",
            crew=crew,
            source=RequestSource.STATUS,
            received_at=now,
            kickoff_id=kickoff_id,
            local_id=local_id,
            task_id=task_id,
            prompt=status.pending_prompt or "",
            output=output,
            emit=status.pending_emit,  # a flow step: its outcomes, not approve/reject
            flow=self.flow_crew(crew),
        )
        return self._place(sighting)

    def seen_crew_webhook(self, crew: str, payload: Mapping[str, Any]) -> HumanRequest | None:
        """A crew HITL delivery (humanInputWebhook, or a task webhook with a pause; a flow's
        task webhook too: the request is the flow's all the same)."""
        kickoff_id = payload.get("kickoff_id") or payload.get("execution_id")
        if not isinstance(kickoff_id, str) or not kickoff_id:
            return None
        task_id = _task_named(payload.get("task_id")) or UNNAMED_TASK
        run = self.store.find_by_kickoff_id(crew, kickoff_id)
        output = payload.get("output", payload.get("task_output", payload.get("result")))
        sighting = HumanRequest(
            id="",
            crew=crew,
            source=RequestSource.CREW_WEBHOOK,
            received_at=self.clock.time(),
            kickoff_id=kickoff_id,
            local_id=run.local_id if run else None,
            task_id=task_id,
            prompt=_text(payload.get("prompt") or payload.get("message")),
            output=_text(output),
            context=_text(payload.get("context")),
            emit=_emit(payload.get("emit")),
            flow=self.flow_crew(crew),
        )
        return self._place(sighting)

    def seen_flow_webhook(self, crew: str, payload: Mapping[str, Any]) -> HumanRequest | None:
        """A signed flow HITL delivery: `new_request` or `escalation`."""
        request_id = payload.get("id")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            return None
        state = payload.get("state") if isinstance(payload.get("state"), dict) else {}
        kickoff_id = payload.get("execution_id") or payload.get("kickoff_id") or state.get("id")
        kickoff_id = kickoff_id if isinstance(kickoff_id, str) and kickoff_id else None
        run = self.store.find_by_kickoff_id(crew, kickoff_id) if kickoff_id else None
        assigned = payload.get("assigned_to")
        callback = payload.get("callback_url")
        sighting = HumanRequest(
            id=str(request_id),
            crew=crew,
            source=RequestSource.FLOW_WEBHOOK,
            received_at=self.clock.time(),
            kickoff_id=kickoff_id,
            local_id=run.local_id if run else None,
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
        return self._place(sighting)

    def close_finished(self) -> int:
        """Close every waiting request of a run the store knows has ended (on start: nothing
        pops up for a completed run); the others are waiting, as shown. Returns how many were
        closed."""
        closed = 0
        for req in self.store.pending_requests():
            run = self._run_of(req)
            if run is None or not run.is_final or req.id in self._answering:
                self._shown[req.id] = req.kickoff_id or ""  # waiting, as the inbox shows
                continue
            self._close_one(req, _final_note(run.state, run.raw_state, run.phase))
            closed += 1
        return closed

    def _place(self, sighting: HumanRequest) -> HumanRequest | None:
        stored, new, changed = self.store.place_request(
            sighting.kickoff_id, sighting.flow_request_id, lambda known: place(sighting, known)
        )
        if sighting.source is not RequestSource.STATUS and sighting.kickoff_id is not None:
            self._forget(sighting.kickoff_id)  # the next poll of the run is placed again
        if stored is None:
            return None
        if new and stored.kickoff_id is not None:
            self._close_replaced(stored)
        if changed:
            self._publish(stored)
        elif stored.answered is None:
            self._shown[stored.id] = stored.kickoff_id or ""  # shown from the store
        return stored

    def _close_replaced(self, new: HumanRequest) -> None:
        """A new request of a step whose earlier request still waits (another flow request
        id): the earlier one was answered somewhere else."""
        assert new.kickoff_id is not None
        for req in self.store.pending_requests_of(new.crew, new.kickoff_id):
            if req.id != new.id and req.id not in self._answering and _same_step(req, new):
                self._close_one(req, (AnswerOutcome.ANSWERED_ELSEWHERE, REPLACED_NOTE))

    def _forget(self, kickoff_id: str) -> None:
        for key in [k for k in self._seen if k[0] == kickoff_id]:
            del self._seen[key]

    def _close(
        self,
        crew: str,
        kickoff_id: str,
        note: str | tuple[AnswerOutcome, str],
        *,
        received_by: float | None = None,
    ) -> None:
        for req in self.store.pending_requests_of(crew, kickoff_id):
            if req.id in self._answering:
                continue
            if received_by is not None and req.received_at > received_by:
                continue
            self._close_one(req, note)

    def _close_one(self, req: HumanRequest, note: str | tuple[AnswerOutcome, str]) -> None:
        """Record that `req` no longer waits, without an answer from this crewdash."""
        outcome, said = (AnswerOutcome.ANSWERED_ELSEWHERE, note) if isinstance(note, str) else note
        closed = self.store.close_request(
            req.id, outcome, said, user=OBSERVER, channel="observed", at=self.clock.time()
        )
        if closed is not None:
            self._publish(closed)

    def _publish(self, req: HumanRequest) -> None:
        if req.answered is None:
            self._shown[req.id] = req.kickoff_id or ""
        else:
            self._shown.pop(req.id, None)
        self.bus.publish(InboxChanged(req))

    def _answered_meanwhile(self, kickoff_id: str) -> None:
        """Requests of a run this inbox announced as waiting that another crewdash process
        sharing the store answered or closed: announce them answered here too."""
        for rid in [r for r, k in self._shown.items() if k == kickoff_id]:
            req = self.store.get_request(rid)
            if req is None or req.answered is not None:
                self._shown.pop(rid, None)
            if req is not None and req.answered is not None:
                self.bus.publish(InboxChanged(req))

    # --- answering ---------------------------------------------------------------------

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        user: str = "",
        seen: PauseIdentity | None = None,
    ) -> AnswerOutcome:
        """Send one answer. A request already answered returns its stored outcome and sends
        nothing; `approve=None` on a crew request means approve.

        `seen` is the pause as the operator saw it (`HumanRequest.identity`). With it the
        answer is sent only while the run is still in that pause: the request's round and
        output unchanged, and (for `/resume`) the run's status, asked just before sending,
        paused on that task with that output. Otherwise nothing is sent and SUPERSEDED is
        returned (`superseded_by` gives the request that waits now), or ANSWERED_ELSEWHERE /
        NOT_WAITING when the run went on or ended."""
        if request_id in self._answering:
            raise InboxError("an answer to this request is already being sent")
        req = self.store.get_request(request_id)
        if req is None:
            raise InboxError(f"no human-input request {request_id!r}")
        if req.answered is not None and (
            request_id in self._answered_here or req.answered is not AnswerOutcome.ACCEPTED
        ):
            return req.answered  # answered from here, or closed as observed: said already
        if seen is not None and req.answered is None and self._moved_on(req, seen):
            return AnswerOutcome.SUPERSEDED
        if req.emit and outcome is not None and outcome not in req.emit:
            raise InboxError(f"{outcome!r} is not one of {', '.join(req.emit)}")
        self._answering.add(request_id)
        try:
            return await self._send(req, feedback, approve, outcome, user, seen)
        finally:
            self._answering.discard(request_id)

    def _moved_on(self, req: HumanRequest, seen: PauseIdentity) -> bool:
        """Whether the stored request is no longer what the operator saw: another round of
        its step waits, or its output changed since it was shown."""
        if self._later_round(req) is not None:
            return True
        return (req.attempt, req.task_id) != (seen.attempt, seen.task_id) or (
            output_digest(req.output) != seen.output_digest
        )

    def _later_round(self, req: HumanRequest) -> HumanRequest | None:
        if req.kickoff_id is None:
            return None
        later = [
            r
            for r in self.store.pending_requests_of(req.crew, req.kickoff_id)
            if r.id != req.id and r.attempt > req.attempt and _same_step(r, req)
        ]
        return max(later, key=lambda r: r.attempt) if later else None

    def superseded_by(self, request_id: str) -> HumanRequest | None:
        """What waits now in place of `request_id` after an answer came back SUPERSEDED: a
        later round of its step, else the request itself as stored now (its output changed),
        else None (nothing of that step waits)."""
        req = self.store.get_request(request_id)
        if req is None:
            return None
        later = self._later_round(req)
        if later is not None:
            return later
        return req if req.answered is None else None

    async def _still_paused(
        self, req: HumanRequest, seen: PauseIdentity
    ) -> tuple[AnswerOutcome, str, RunStatus] | None:
        """Ask the run's status just before sending: None when it still waits in the pause
        the operator saw; otherwise the outcome to record, why (nothing is sent) and the
        status."""
        assert req.kickoff_id is not None
        status = await self.client_for(req.crew).status(req.kickoff_id)
        if status.state.is_final:
            return (*_final_note(status.state, status.raw_state), status)
        if status.state is not RunState.AWAITING_INPUT:
            said = f"not sent: {SOMEONE_ELSE}: the run went on ({status.raw_state})"
            return AnswerOutcome.ANSWERED_ELSEWHERE, said, status
        task = status.pending_task_id or status.current_task
        output = status.pending_output or ""
        same_task = not task or not req.named_task or task == req.named_task
        same_output = not output or output_digest(output) == seen.output_digest
        if same_task and same_output:
            return None
        said = f"not sent: the run waits in another pause now ({task}, another output)"
        return AnswerOutcome.SUPERSEDED, said, status

    async def _send(
        self,
        req: HumanRequest,
        feedback: str,
        approve: bool | None,
        outcome: str | None,
        user: str,
        seen: PauseIdentity | None = None,
    ) -> AnswerOutcome:
        channel = "callback" if req.callback_url else "resume"
        human_feedback, is_approve = resume_answer(feedback, approve, outcome)
        sent_approve = approve if req.callback_url else is_approve
        decision = Decision(req.id, feedback, sent_approve, outcome, user, at=self.clock.time())
        decision_id, winner = self.store.claim_answer(
            decision, channel, lambda w: f"not sent: {how_answered(w)}"
        )
        if winner is not None:  # another process holds or has answered this request
            stored = self.store.get_request(req.id)
            if stored is not None and stored.answered is not None:
                self._publish(stored)
            return AnswerOutcome.ANSWERED_ELSEWHERE
        self._answered_here.add(req.id)
        run = self._run_of(req)
        result, said = AnswerOutcome.FAILED, ""
        try:
            client = self.client_for(req.crew)
            if seen is not None and not req.callback_url and req.kickoff_id:
                moved = await self._still_paused(req, seen)
                if moved is not None:
                    return self._not_sent(req, decision_id, run, *moved)
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
            result, said = AnswerOutcome.ANSWERED_ELSEWHERE, f"{SOMEONE_ELSE} ({exc})"
        except NotPausedError as exc:
            # The pause was seen and is gone: another operator (another machine) answered.
            result, said = AnswerOutcome.ANSWERED_ELSEWHERE, f"{SOMEONE_ELSE} ({exc})"
        except NotFoundError as exc:
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
            self._publish(stored)
        if result is not AnswerOutcome.FAILED and run is not None and self.refresh is not None:
            outcome_of_refresh = self.refresh(run.local_id)
            if hasattr(outcome_of_refresh, "__await__"):
                await outcome_of_refresh
        return result

    def _not_sent(
        self,
        req: HumanRequest,
        decision_id: int,
        run: RunRecord | None,
        result: AnswerOutcome,
        said: str,
        status: RunStatus,
    ) -> AnswerOutcome:
        """Close a decision that was not sent because the run left the pause the operator
        saw. A new pause becomes its own request at once (the old one is closed first), unless
        the stored request already shows it (a later sighting brought the new output): then
        it stays open and is what waits now."""
        assert req.kickoff_id is not None
        stored = self.store.get_request(req.id) or req
        shows_now = output_digest(stored.output) == output_digest(status.pending_output or "")
        keep_open = result is AnswerOutcome.SUPERSEDED and shows_now
        self.store.record_outcome(decision_id, result, said, close_request=not keep_open)
        stored = self.store.get_request(req.id)
        if stored is not None:
            self._publish(stored)
        if result is AnswerOutcome.SUPERSEDED and not keep_open:
            self._forget(req.kickoff_id)
            self.seen_polled(
                req.crew, req.kickoff_id, status, local_id=run.local_id if run else req.local_id
            )
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
