"""The engine's operations on runs (`crewdash.core.engine.Engine` has them): kickoffs, one
or a batch; resolving an UNKNOWN kickoff (adopt, resend, dismiss); stop, refresh, and reading
runs, their history and decisions. Every change is published and the run tracked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from crewdash.aop.errors import AOPError, UnsupportedError
from crewdash.core.audit import (
    STOP_TAKEN,
    AuditEntry,
    AuditFilter,
    AuditKey,
    answer_of_error,
)
from crewdash.core.engine_clients import CrewClient, EngineError
from crewdash.core.models import DecisionRecord, RunChanged, RunRecord, StateChange
from crewdash.core.runs import resolve
from crewdash.core.runs.batch import BatchProgress, BatchResult, run_batch
from crewdash.core.runs.kickoff import start_run
from crewdash.core.runs.run_events import RunEvent

if TYPE_CHECKING:
    from crewdash.aop.models import HumanInputWebhook, Webhooks
    from crewdash.core.events import EventBus
    from crewdash.core.inbox.inbox import Inbox
    from crewdash.core.monitor.poller import Monitor
    from crewdash.core.receiver.server import Receiver
    from crewdash.core.runs.pacer import Pacers
    from crewdash.core.store.database import RunStore
    from crewdash.core.timing import Clock


class _Hooks(TypedDict, total=False):
    """The webhooks a kickoff advertises (none without a receiver)."""

    webhooks: Webhooks | None
    human_input_webhook: HumanInputWebhook | None


class RunOperations:
    """The runs' part of the engine: a mixin over the engine's parts, declared here."""

    store: RunStore
    clock: Clock
    bus: EventBus
    monitor: Monitor
    pacers: Pacers
    inbox_: Inbox
    receiver: Receiver | None
    user: str
    #: a read-only engine (`crewdash --read-only`, `crewdash serve`) watches: every verb that
    #: would change something on a server refuses with EngineError before sending anything
    read_only: bool = False
    channel: str | None = None

    def client(self, crew: str) -> CrewClient:
        raise NotImplementedError  # the engine's: its crews' clients

    def _serve_as(self, read_only: bool, channel: str | None) -> None:
        """`read_only`: every verb that changes something refuses (`_writable`, and the
        inbox's answers); `channel`: where this process serves its screens ("browser"), the
        audit's channel of its actions through the store it was given."""
        self.read_only = self.inbox_.read_only = read_only
        self.channel = channel

    def _writable(self, verb: str) -> None:
        if self.read_only:
            raise EngineError(f"read-only: this crewdash cannot {verb}")

    def _hooks(self, crew: str) -> _Hooks:
        if self.receiver is None:
            return {}
        return {
            "webhooks": self.receiver.webhooks_for(crew),
            "human_input_webhook": self.receiver.human_input_webhook_for(crew),
        }

    async def kickoff(self, crew: str, inputs: Mapping[str, Any]) -> RunRecord:
        """Start a run, tracked at once. On failure the stored row is published, then the
        client's AOPError is raised."""
        self._writable("start runs")
        client = self.client(crew)
        request_id = str(uuid.uuid4())  # names this kickoff's row even if others run at once
        try:
            record = await start_run(
                self.store,
                client,
                crew,
                dict(inputs),
                clock=self.clock,
                request_id=request_id,
                pacer=self.pacers.get(crew),
                **self._hooks(crew),
            )
        except AOPError:
            failed = self.store.find_by_request_id(request_id)
            if failed is not None:
                self.bus.publish(RunChanged(failed))
            raise
        self.bus.publish(RunChanged(record))
        self.monitor.track(record)
        return record

    async def kickoff_batch(
        self,
        crew: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        key: str | None = None,
        max_concurrency: int = 8,
        on_progress: Callable[[BatchProgress], None] | None = None,
        stop: asyncio.Event | None = None,
        resend_unknown: bool = False,
    ) -> BatchResult:
        self._writable("start runs")

        def started(record: RunRecord) -> None:
            self.bus.publish(RunChanged(record))
            self.monitor.track(record)

        return await run_batch(
            self.store,
            self.client(crew),
            crew,
            rows,
            key=key,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            on_started=started,
            clock=self.clock,
            stop=stop,
            pacer=self.pacers.get(crew),
            resend_unknown=resend_unknown,
            **self._hooks(crew),
        )

    # --- resolving an UNKNOWN kickoff (crewdash.core.runs.resolve) -------------------------------

    async def adopt(self, local_id: str, kickoff_id: str) -> RunRecord:
        """Attach the kickoff id the operator found to an UNKNOWN run, after a status call
        confirmed it; the run is then watched. EngineError when it cannot be done."""
        self._writable("adopt a kickoff id")
        record = self._record(local_id)
        try:
            updated, _ = await resolve.adopt(
                self.store,
                self.client(record.crew),
                record,
                kickoff_id,
                user=self.user or None,
                now=self.clock.time(),
            )
        except resolve.ResolveError as exc:
            raise EngineError(str(exc)) from None
        self.bus.publish(RunChanged(updated))
        self.monitor.track(updated)
        return updated

    async def resend(self, local_id: str) -> RunRecord:
        """Send an UNKNOWN run's kickoff again on the same row (a fresh request id). The
        caller has confirmed `resolve.DUPLICATE_RISK`. On failure the row is published,
        then the client's AOPError is raised, as by `kickoff()`."""
        self._writable("send a kickoff again")
        record = self._record(local_id)
        try:
            updated = await resolve.resend(
                self.store,
                self.client(record.crew),
                record,
                user=self.user or None,
                pacer=self.pacers.get(record.crew),
                clock=self.clock,
                **self._hooks(record.crew),
            )
        except resolve.ResolveError as exc:
            raise EngineError(str(exc)) from None
        except AOPError:
            self.bus.publish(RunChanged(self._record(local_id)))
            raise
        self.bus.publish(RunChanged(updated))
        self.monitor.track(updated)
        return updated

    def dismiss(self, local_id: str, reason: str = "") -> RunRecord:
        """The operator says an UNKNOWN kickoff did not start: REFUSED, recorded."""
        self._writable("dismiss a kickoff")
        try:
            updated = resolve.dismiss(
                self.store, self._record(local_id), user=self.user or None, reason=reason
            )
        except resolve.ResolveError as exc:
            raise EngineError(str(exc)) from None
        self.bus.publish(RunChanged(updated))
        return updated

    def audit(
        self,
        where: AuditFilter | None = None,
        *,
        limit: int = 100,
        before: AuditKey | None = None,
        after: AuditKey | None = None,
    ) -> list[AuditEntry]:
        """The audit trail, newest first (`RunStore.audit`): a store read, safe anywhere."""
        return self.store.audit(where, limit=limit, before=before, after=after)

    def run_actions(self, local_id: str) -> list[dict[str, Any]]:
        """The audit trail of a run: adopt, resend, dismiss, automatic adoption."""
        return list(self.store.actions(local_id))

    def _adopt_from(self, crew: str, payload: Mapping[str, Any]) -> None:
        adopted = resolve.adopt_from_webhook(self.store, crew, payload)
        if adopted is not None:
            self.bus.publish(RunChanged(adopted))
            self.monitor.track(adopted)

    def _record(self, local_id: str) -> RunRecord:
        record = self.store.get(local_id)
        if record is None:
            raise EngineError(f"no run {local_id!r}")
        return record

    async def stop_run(self, local_id: str) -> RunRecord:
        """Ask the deployment to stop a run (UnsupportedError if it cannot), then poll it."""
        self._writable("stop runs")
        record = self._record(local_id)
        if record.kickoff_id is None:
            raise EngineError("this run has no kickoff id: there is nothing to stop")
        stopping = f"kickoff id {record.kickoff_id}"
        try:
            await self.client(record.crew).stop(record.kickoff_id)
        except AOPError as exc:  # refused: audited with the server's answer, then raised
            self.store.record_action(
                local_id,
                "stop",
                stopping,
                user=self.user or None,
                server_answer=answer_of_error(exc),
            )
            if isinstance(exc, UnsupportedError):
                raise UnsupportedError(
                    "this deployment cannot stop runs", status_code=exc.status_code
                ) from exc
            raise
        self.store.record_action(
            local_id, "stop", stopping, user=self.user or None, server_answer=STOP_TAKEN
        )
        return await self.refresh(local_id)

    async def refresh(self, local_id: str) -> RunRecord:
        """Poll now; returns the record after that poll."""
        record = self._record(local_id)
        if local_id in self.monitor.tracked():
            polled = await self.monitor.refresh(local_id)
            return polled or self._record(local_id)
        if record.kickoff_id is None:
            return record
        status = await self.client(record.crew).status(record.kickoff_id)
        updated, changed = self.store.record_status(local_id, status, self.clock.time())
        if changed:
            self.bus.publish(RunChanged(updated, record))
        self.inbox_.seen_status(updated, status)
        if not updated.is_final:
            self.monitor.track(updated)
        return updated

    def runs(self) -> list[RunRecord]:
        return list(self.store.list_runs())

    def run(self, local_id: str) -> RunRecord | None:
        found: RunRecord | None = self.store.get(local_id)
        return found

    def history(self, local_id: str) -> list[StateChange]:
        return list(self.store.history(local_id))

    def run_events(self, local_id: str, after: int = 0) -> list[RunEvent]:
        """The run's step, task and crew webhooks kept (only with the receiver on), in order."""
        return list(self.store.run_events(local_id, after=after))

    def decisions(self, local_id: str) -> list[DecisionRecord]:
        """The human decisions about a run, oldest first: answers sent (from this or another
        crewdash on the same store) and requests seen closed without one ("observed")."""
        return list(self.store.decisions_for_run(local_id))
