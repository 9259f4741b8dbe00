"""The engine: the one facade the TUI and the CLI use (no Textual here)."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from crewdash.aop.errors import AOPError, AuthenticationError, UnsupportedError
from crewdash.aop.models import InputSpec, RunState, Secret
from crewdash.core.config.errors import ConfigError
from crewdash.core.config.model import Config, CrewConfig, CrewKind
from crewdash.core.events import EventBus
from crewdash.core.inbox.inbox import Inbox
from crewdash.core.models import (
    AnswerOutcome,
    CrewHealth,
    CrewHealthChanged,
    DecisionRecord,
    Event,
    HumanRequest,
    PauseIdentity,
    RunChanged,
    RunRecord,
    StateChange,
)
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.monitor.probe import HealthProbe, ProbeSettings
from crewdash.core.receiver.server import Receiver
from crewdash.core.runs import resolve
from crewdash.core.runs.batch import BatchProgress, BatchResult, run_batch
from crewdash.core.runs.kickoff import reconcile_interrupted, start_run
from crewdash.core.runs.pacer import Pacers
from crewdash.core.runs.status_route import load_status_route, save_status_route
from crewdash.core.timing import Clock, LoopClock

log = logging.getLogger(__name__)

ClientFactory = Callable[[CrewConfig, Secret], Any]


class EngineError(Exception):
    """A request the engine cannot carry out: unknown crew or run, a crew without a token."""


# The requests of a client that carry the crew's token. A success of any but `health` (which a
# deployment may answer without looking at the token) shows the token is accepted.
_TOKEN_CALLS = frozenset({"inputs", "kickoff", "status", "resume", "stop", "answer_callback"})


class _TokenWatch:
    """A crew's client as the engine hands it out (to the inbox, batch, the probe, callers of
    `client()`): a 401 on any request makes the crew's health TOKEN_REJECTED at once; a later
    success of a request with the token ends that. Everything else passes through."""

    def __init__(self, client: Any, rejected: Callable[[], None], accepted: Callable[[], None]):
        self._client = client
        self._rejected = rejected
        self._accepted = accepted

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or (name not in _TOKEN_CALLS and name != "health"):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await attr(*args, **kwargs)
            except AuthenticationError:
                self._rejected()
                raise
            if name != "health":
                self._accepted()
            return result

        return call


class Engine:
    """Everything headless crewdash does, behind one object.

    The interface of `notes/interfaces.md`, plus what the TUI and CLI also need:
    - `await kickoff_batch(crew, rows, *, key=None, max_concurrency=8, on_progress=None,
      stop=None)` -> BatchResult: many runs of one crew, resumable; setting the `stop` event
      ends it after the kickoffs in flight (see `crewdash.core.runs.batch`).
    - `kickoff()` re-raises the client's AOPError when the kickoff failed; the REFUSED or
      UNKNOWN row is stored and published first (`engine.runs()` shows it).
    - `event_batches()`: like `events()` but yields lists coalesced per run/request/crew.
    - `crews` (names), `client(crew)`, `learnt_rate(crew)`, `requests_sent(crew=None)`,
      `replace_token(crew, token)` (resumes a crew stopped by a 401), `monitor`, `inbox_`.
    - `crew_latency(crew)`: seconds of the latest health check that measured one.
    - `probe`: checks each crew's health on start and every minute while none of its runs is
      polled (`crewdash.core.monitor.probe`); `crew_health()` is the newest of its and the
      monitor's view.
    Every event is on disk when it is published; callbacks run on the event loop.
    """

    def __init__(
        self,
        config: Config,
        store: Any,
        *,
        clock: Clock | None = None,
        client_factory: ClientFactory | None = None,
        monitor_settings: MonitorSettings | None = None,
        user: str = "",
        rng: random.Random | None = None,
        probe_settings: ProbeSettings | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock: Clock = clock or LoopClock()
        self.client_factory = client_factory or self._default_client
        self.user = user
        self.rng = rng or random.Random()
        self.bus = EventBus()
        self.monitor = Monitor(
            store,
            self.bus,
            clock=self.clock,
            settings=monitor_settings,
            rng=self.rng,
            on_status=self._on_status,
        )
        self.inbox_ = Inbox(
            store,
            self.bus,
            client_for=self.client,
            clock=self.clock,
            refresh=self.monitor.poll_now,
            flow_crew=self._is_flow_crew,
        )
        self.receiver: Receiver | None = None
        self.receiver_note: str | None = None  # why an optional receiver did not start
        self._clients: dict[str, Any] = {}
        self._watched: dict[str, _TokenWatch] = {}  # the same clients, as handed out
        self._crew_errors: dict[str, str] = {}
        self._inputs: dict[str, list[InputSpec]] = {}
        self._started = False
        self._health: dict[str, CrewHealthChanged] = {}  # the newest published, per crew
        # one pacer per crew (the rate learnt from 429s, kept in the store), shared by the
        # monitor's polls and every kickoff of this process
        self.pacers = Pacers(store, self.clock)
        self.bus.subscribe(self._health_seen)
        self.probe = HealthProbe(
            lambda: list(self._clients),
            self.client,
            self.monitor.polled_crews,
            self._probe_seen,
            clock=self.clock,
            settings=probe_settings or ProbeSettings(slow_after=self.monitor.settings.slow_after),
        )

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def crews(self) -> list[str]:
        return list(self.config.crews)

    def _default_client(self, crew: CrewConfig, token: Secret) -> Any:
        from crewdash.aop import AsyncCrewClient, RetryPolicy

        return AsyncCrewClient(
            crew.url,
            token,
            connect_timeout=crew.connect_timeout,
            read_timeout=crew.read_timeout,
            retry=RetryPolicy.none(),  # the monitor owns scheduling and backoff
            status_route=load_status_route(self.store, crew.name),
        )

    async def start(self, *, receiver_optional: bool = False) -> None:
        """Reconcile a crash, close the human-input requests of runs already final, make
        clients, start the receiver if enabled, track every unfinished run.

        With `receiver_optional` (one-shot commands) a receiver that cannot hold its port
        (another crewdash has it) is left out and `receiver_note` says so: polling sees every
        pause anyway. Otherwise the OSError is the caller's."""
        if self._started:
            return
        self._started = True
        for record in reconcile_interrupted(self.store):
            self.bus.publish(RunChanged(record))
        self.inbox_.close_finished()  # nothing pops up for a run that has ended meanwhile
        from crewdash.core.config.tokens import resolve_token

        for crew in self.config.crews.values():
            try:
                client = self.client_factory(crew, resolve_token(crew))
            except ConfigError as exc:
                self._crew_errors[crew.name] = f"no usable token: {exc}"
                continue
            self._set_client(crew.name, client)
            self.monitor.add_crew(crew, client, rate=self.pacers.get(crew.name).rate)
            for run in self.store.list_runs(crew=crew.name, states=[RunState.COMPLETED], limit=50):
                if run.duration is not None:
                    self.monitor.learn_duration(crew.name, run.duration)
        if self.config.receiver.enabled:
            self.receiver = Receiver(
                self.config.receiver,
                on_crew_hitl=self._on_crew_hitl,
                on_flow_hitl=self._on_flow_hitl,
                on_delivery=self._on_delivery,
                crews=lambda: set(self.config.crews),
                clock=self.clock,
            )
            try:
                await self.receiver.start()
            except OSError as exc:
                if not receiver_optional:
                    raise
                where = f"{self.config.receiver.host}:{self.config.receiver.port}"
                self.receiver = None
                self.receiver_note = (
                    f"webhook receiver not started: {where} is taken ({exc.strerror or exc}); "
                    "another crewdash probably holds it. Following by polling."
                )
        await self.monitor.start()
        for record in self.store.unfinished():
            crew = self.config.crews.get(record.crew)
            if crew is None:
                continue  # a crew not configured here (or not asked about): nobody polls it
            spread = self.rng.uniform(0, crew.poll_min)
            self.monitor.track(record, delay=spread)  # spread a restart's first polls
        self.probe.start()

    async def stop(self) -> None:
        await self.probe.stop()
        await self.monitor.stop()
        self.pacers.save()
        if self.receiver is not None:
            await self.receiver.stop()
        for name, client in self._clients.items():
            save_status_route(self.store, name, getattr(client, "status_route", None))
            close = getattr(client, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    log.exception("closing the client of %s failed", name)
        self._clients.clear()
        self._watched.clear()
        self._started = False

    # --- events ----------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return self.bus.subscribe(callback)

    def events(self) -> AsyncIterator[Event]:
        return self.bus.events()

    def event_batches(self) -> AsyncIterator[list[Event]]:
        return self.bus.batches()

    # --- crews -----------------------------------------------------------------------------

    def _set_client(self, crew: str, client: Any) -> None:
        self._clients[crew] = client
        self._watched[crew] = _TokenWatch(
            client,
            lambda: self.monitor.token_rejected(crew),
            lambda: self.monitor.token_accepted(crew),
        )

    def _probe_seen(self, event: CrewHealthChanged) -> None:
        """The probe's word, unless the crew's token was rejected: a health check may pass
        without the token, so only a request with it (or a new token) ends a rejection."""
        if not self.monitor.is_rejected(event.crew):
            self.bus.publish(event)

    def client(self, crew: str) -> Any:
        """The crew's client; a 401 on any of its requests marks the crew TOKEN_REJECTED."""
        client = self._watched.get(crew)
        if client is None:
            if crew in self._crew_errors:
                raise EngineError(f"crew {crew!r}: {self._crew_errors[crew]}")
            raise EngineError(f"no crew named {crew!r} is configured")
        return client

    def crew_health(self, crew: str) -> tuple[CrewHealth, str]:
        if crew in self._crew_errors:
            return (CrewHealth.TOKEN_REJECTED, self._crew_errors[crew])
        latest = self._health.get(crew)
        if latest is not None:
            return (latest.health, latest.detail)
        return self.monitor.crew_health(crew)

    def crew_latency(self, crew: str) -> float | None:
        latest = self._health.get(crew)
        return latest.latency if latest is not None else None

    def _health_seen(self, event: Event) -> None:
        if not isinstance(event, CrewHealthChanged):
            return
        previous = self._health.get(event.crew)
        if (
            event.latency is None
            and previous is not None
            and event.health in (CrewHealth.OK, CrewHealth.SLOW)
        ):
            # the monitor's polls measure no latency it publishes: keep the probe's
            event = CrewHealthChanged(
                event.crew, event.health, event.detail, event.since, previous.latency
            )
        self._health[event.crew] = event

    def learnt_rate(self, crew: str) -> float | None:
        return self.monitor.learnt_rate(crew)

    def requests_sent(self, crew: str | None = None) -> int:
        return self.monitor.requests_sent(crew)

    def replace_token(self, crew: str, token: Secret) -> None:
        """A fixed token: a new client, and polling of the crew's parked runs resumes."""
        cfg = self.config.crews[crew]
        client = self.client_factory(cfg, token)
        self._set_client(crew, client)
        self._crew_errors.pop(crew, None)
        if self.monitor.has_crew(crew):
            self.monitor.set_client(crew, client)
        else:
            self.monitor.add_crew(cfg, client, rate=self.pacers.get(crew).rate)

    async def inputs(self, crew: str) -> list[InputSpec]:
        if crew not in self._inputs:
            self._inputs[crew] = await self.client(crew).inputs()
        return self._inputs[crew]

    @property
    def receiver_url(self) -> str | None:
        return self.receiver.public_url if self.receiver is not None else None

    # --- runs ------------------------------------------------------------------------------

    def _hooks(self, crew: str) -> dict[str, Any]:
        if self.receiver is None:
            return {}
        return {
            "webhooks": self.receiver.webhooks_for(crew),
            "human_input_webhook": self.receiver.human_input_webhook_for(crew),
        }

    async def kickoff(self, crew: str, inputs: Mapping[str, Any]) -> RunRecord:
        """Start a run, tracked at once. On failure the stored row is published, then the
        client's AOPError is raised."""
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
        try:
            updated = resolve.dismiss(
                self.store, self._record(local_id), user=self.user or None, reason=reason
            )
        except resolve.ResolveError as exc:
            raise EngineError(str(exc)) from None
        self.bus.publish(RunChanged(updated))
        return updated

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
        record = self._record(local_id)
        if record.kickoff_id is None:
            raise EngineError("this run has no kickoff id: there is nothing to stop")
        try:
            await self.client(record.crew).stop(record.kickoff_id)
        except UnsupportedError as exc:
            raise UnsupportedError(
                "this deployment cannot stop runs", status_code=exc.status_code
            ) from exc
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

    def decisions(self, local_id: str) -> list[DecisionRecord]:
        """The human decisions about a run, oldest first: answers sent (from this or another
        crewdash on the same store) and requests seen closed without one ("observed")."""
        return list(self.store.decisions_for_run(local_id))

    # --- human input -----------------------------------------------------------------------

    def _is_flow_crew(self, crew: str) -> bool:
        cfg = self.config.crews.get(crew)
        return cfg is not None and cfg.kind == CrewKind.FLOW

    def inbox(self) -> list[HumanRequest]:
        return self.inbox_.pending()

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        seen: PauseIdentity | None = None,
    ) -> AnswerOutcome:
        """Answer a request; `seen` (`HumanRequest.identity` of what was shown) makes sure the
        answer goes to that pause and no other (see `Inbox.answer`)."""
        return await self.inbox_.answer(
            request_id,
            feedback=feedback,
            approve=approve,
            outcome=outcome,
            user=self.user,
            seen=seen,
        )

    def superseded_by(self, request_id: str) -> HumanRequest | None:
        """After an answer came back SUPERSEDED: the request that waits now in its place."""
        return self.inbox_.superseded_by(request_id)

    def _on_status(self, record: RunRecord, status: Any) -> None:
        self.inbox_.seen_status(record, status)
        # A poll answered: the monitor's view of the crew is current. If the last word was
        # the probe's and differs (offline before this run started), say what is true now.
        health, detail = self.monitor.crew_health(record.crew)
        latest = self._health.get(record.crew)
        if latest is not None and (latest.health, latest.detail) != (health, detail):
            self.bus.publish(CrewHealthChanged(record.crew, health, detail, self.clock.time()))

    # --- webhook deliveries: they only make polling sooner ----------------------------------

    def _poll_kickoff(self, crew: str, kickoff_id: Any) -> None:
        if isinstance(kickoff_id, str) and kickoff_id:
            run = self.store.find_by_kickoff_id(crew, kickoff_id)
            if run is not None:
                self.monitor.poll_now(run.local_id)

    def _on_crew_hitl(self, crew: str, payload: Mapping[str, Any]) -> None:
        self._adopt_from(crew, payload)
        self.inbox_.seen_crew_webhook(crew, payload)
        self._poll_kickoff(crew, payload.get("kickoff_id") or payload.get("execution_id"))

    def _on_flow_hitl(self, crew: str, payload: Mapping[str, Any]) -> None:
        self._adopt_from(crew, payload)
        self.inbox_.seen_flow_webhook(crew, payload)
        self._poll_kickoff(crew, payload.get("kickoff_id") or payload.get("execution_id"))

    def _on_delivery(self, crew: str, payload: Mapping[str, Any]) -> None:
        self._adopt_from(crew, payload)
        if payload.get("human_input_required") is True:
            self.inbox_.seen_crew_webhook(crew, payload)
        self._poll_kickoff(crew, payload.get("kickoff_id") or payload.get("execution_id"))
