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

import inspect

from crewdash.aop.errors import (
    AlreadyAnsweredError,
    AOPError,
    NotFoundError,
    NotPausedError,
)
from crewdash.aop.models import RunState, RunStatus
from crewdash.core.inbox.answers import (
    OBSERVER,
    SOMEONE_ELSE,
    InboxError,
    answer_text,
    final_note,
    how_answered,
    is_rejection,
    resume_answer,
)
from crewdash.core.inbox.placing import place, same_step
from crewdash.core.inbox.ports import AnswerClient
from crewdash.core.inbox.sources import InboxSources
from crewdash.core.models import (
    AnswerOutcome,
    Decision,
    HumanRequest,
    PauseIdentity,
    RunRecord,
)
from crewdash.core.records import output_digest
from crewdash.core.runs.kickoff import webhooks_of

# What callers import from here, wherever it is defined now.
__all__ = [
    "OBSERVER",
    "SOMEONE_ELSE",
    "Inbox",
    "InboxError",
    "answer_text",
    "how_answered",
    "is_rejection",
    "place",
    "resume_answer",
]


class Inbox(InboxSources):
    """Every pending request, from every source, once; and the one answer each gets."""

    #: a read-only crewdash (`Engine(read_only=True)`) sends no answer
    read_only: bool = False

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        user: str = "",
        seen: PauseIdentity | None = None,
        via: str = "",
    ) -> AnswerOutcome:
        """Send one answer. A request already answered returns its stored outcome and sends
        nothing; `approve=None` on a crew request means approve. `via`: the front end it came
        through, for the audit trail (by default the store's channel).

        `seen` is the pause as the operator saw it (`HumanRequest.identity`). With it the
        answer is sent only while the run is still in that pause: the request's round and
        output unchanged, and (for `/resume`) the run's status, asked just before sending,
        paused on that task with that output. Otherwise nothing is sent and SUPERSEDED is
        returned (`superseded_by` gives the request that waits now), or ANSWERED_ELSEWHERE /
        NOT_WAITING when the run went on or ended."""
        if request_id in self._answering:
            raise InboxError("an answer to this request is already being sent")
        if self.read_only:
            raise InboxError("read-only: this crewdash cannot answer")
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
            return await self._send(req, feedback, approve, outcome, user, seen, via)
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
            if r.id != req.id and r.attempt > req.attempt and same_step(r, req)
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
            return (*final_note(status.state, status.raw_state), status)
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
        via: str = "",
    ) -> AnswerOutcome:
        """Claim the request (audit row first), send through its channel, record the outcome
        (see the module docstring)."""
        channel = "callback" if req.callback_url else "resume"
        sent_approve = approve if req.callback_url else resume_answer(feedback, approve, outcome)[1]
        decision = Decision(
            req.id, feedback, sent_approve, outcome, user, at=self.clock.time(), origin=via
        )
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
        try:
            client = self.client_for(req.crew)
            if seen is not None and not req.callback_url and req.kickoff_id:
                moved = await self._still_paused(req, seen)
                if moved is not None:
                    return self._not_sent(req, decision_id, run, *moved)
            result, said = await self._deliver(client, req, run, feedback, approve, outcome)
        except (AOPError, InboxError) as exc:
            result, said = _refusal(exc)
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
            if inspect.isawaitable(outcome_of_refresh):
                await outcome_of_refresh
        return result

    @staticmethod
    async def _deliver(
        client: AnswerClient,
        req: HumanRequest,
        run: RunRecord | None,
        feedback: str,
        approve: bool | None,
        outcome: str | None,
    ) -> tuple[AnswerOutcome, str]:
        """Send the answer through the request's channel: its flow callback, else `/resume`
        with the kickoff's webhook URLs. The server's word, as outcome and text."""
        if req.callback_url:
            await client.answer_callback(req.callback_url, answer_text(feedback, outcome))
            return AnswerOutcome.ACCEPTED, "accepted"
        if not req.kickoff_id or not req.task_id:
            raise InboxError("this request names no run and task to resume")
        human_feedback, is_approve = resume_answer(feedback, approve, outcome)
        answer = await client.resume(
            req.kickoff_id,
            req.task_id,
            human_feedback,
            is_approve,
            webhooks=webhooks_of(run) if run is not None else None,
        )
        return AnswerOutcome.ACCEPTED, f"{answer.status}: {answer.message}".strip(": ")

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
        shown = self.store.get_request(req.id) or req
        shows_now = output_digest(shown.output) == output_digest(status.pending_output or "")
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


def _refusal(exc: AOPError | InboxError) -> tuple[AnswerOutcome, str]:
    """What a failed send means: the server's 409, or a 400 "not paused" for a pause this
    crewdash saw, is somebody else's answer; a vanished run waits no more; else FAILED."""
    if isinstance(exc, AlreadyAnsweredError | NotPausedError):
        return AnswerOutcome.ANSWERED_ELSEWHERE, f"{SOMEONE_ELSE} ({exc})"
    if isinstance(exc, NotFoundError):
        return AnswerOutcome.NOT_WAITING, str(exc)
    return AnswerOutcome.FAILED, str(exc)
