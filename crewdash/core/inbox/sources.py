"""The inbox's sources and bookkeeping: a pause seen by polling or reported by a webhook
becomes a stored request (or adds to one), and a request that stopped waiting is closed as
observed. Answering is `crewdash.core.inbox.inbox.Inbox`, built on this."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.events import EventBus
from crewdash.core.inbox.answers import (
    ELSEWHERE_NOTE,
    OBSERVER,
    REPLACED_NOTE,
    final_note,
)
from crewdash.core.inbox.placing import crew_sighting, flow_sighting, place, same_step
from crewdash.core.inbox.ports import AnswerClient, InboxStore
from crewdash.core.models import (
    AnswerOutcome,
    HumanRequest,
    InboxChanged,
    RequestSource,
    RunRecord,
)
from crewdash.core.records import UNNAMED_TASK
from crewdash.core.timing import Clock, LoopClock


class InboxSources:
    """The requests' sources and the state they share with answering (see the module
    docstring)."""

    def __init__(
        self,
        store: InboxStore,
        bus: EventBus,
        *,
        client_for: Callable[[str], AnswerClient],
        clock: Clock | None = None,
        refresh: Callable[[str], object] | None = None,
        flow_crew: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.client_for = client_for
        self.clock: Clock = clock or LoopClock()
        # called with a local id when a run should be polled now; awaited if it is a coroutine
        self.refresh = refresh
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
            self._close(crew, kickoff_id, final_note(status.state, status.raw_state))
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
        sighting = crew_sighting(
            crew,
            payload,
            at=self.clock.time(),
            local_id_of=lambda kickoff_id: self._local_id(crew, kickoff_id),
            flow=self.flow_crew(crew),
        )
        return None if sighting is None else self._place(sighting)

    def seen_flow_webhook(self, crew: str, payload: Mapping[str, Any]) -> HumanRequest | None:
        """A signed flow HITL delivery: `new_request` or `escalation`."""
        sighting = flow_sighting(
            crew,
            payload,
            at=self.clock.time(),
            local_id_of=lambda kickoff_id: self._local_id(crew, kickoff_id),
        )
        return None if sighting is None else self._place(sighting)

    def _local_id(self, crew: str, kickoff_id: str) -> str | None:
        run = self.store.find_by_kickoff_id(crew, kickoff_id)
        return run.local_id if run else None

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
            self._close_one(req, final_note(run.state, run.raw_state, run.phase))
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
            if req.id != new.id and req.id not in self._answering and same_step(req, new):
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

    def _run_of(self, req: HumanRequest) -> RunRecord | None:
        if req.local_id:
            run = self.store.get(req.local_id)
            if run is not None:
                return run
        if req.kickoff_id:
            return self.store.find_by_kickoff_id(req.crew, req.kickoff_id)
        return None
