"""The engine: the one facade the TUI and the CLI use (no Textual here)."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from crewdash.aop.models import InputSpec, RunState, Secret
from crewdash.core.config.errors import ConfigError
from crewdash.core.config.model import Config, CrewConfig, CrewKind
from crewdash.core.engine_clients import (
    ClientFactory,
    CrewClient,
    EngineError,
    TokenWatch,
    default_client,
)
from crewdash.core.engine_runs import RunOperations
from crewdash.core.events import EventBus
from crewdash.core.inbox.inbox import Inbox
from crewdash.core.live import LiveFeed
from crewdash.core.models import (
    AnswerOutcome,
    CrewHealth,
    CrewHealthChanged,
    Event,
    HumanRequest,
    PauseIdentity,
    RunChanged,
    RunEventsAdded,
    RunRecord,
)
from crewdash.core.monitor.poller import MonitorSettings
from crewdash.core.monitor.probe import HealthProbe, ProbeSettings
from crewdash.core.monitor.shared import SharedMonitor
from crewdash.core.receiver.server import Receiver
from crewdash.core.runs.event_stream import keep_delivery
from crewdash.core.runs.kickoff import reconcile_interrupted
from crewdash.core.runs.pacer import Pacers
from crewdash.core.runs.status_route import save_status_route
from crewdash.core.timing import Clock, LoopClock

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from crewdash.aop.models import RunStatus
    from crewdash.core.store.database import RunStore

# What callers import from here, wherever it is defined now.
__all__ = ["ClientFactory", "CrewClient", "Engine", "EngineError"]

log = logging.getLogger(__name__)


class Engine(RunOperations):
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
    - `read_only=True`: every verb that changes something (kickoff, stop, adopt, resend,
      dismiss, answer) raises EngineError before anything is sent; reading goes on.
      `channel`: the audit's channel of this process's answers ("browser": `crewdash serve`).
    Every event is on disk when it is published; callbacks run on the event loop.
    """

    def __init__(
        self,
        config: Config,
        store: RunStore,
        *,
        clock: Clock | None = None,
        client_factory: ClientFactory | None = None,
        monitor_settings: MonitorSettings | None = None,
        user: str = "",
        rng: random.Random | None = None,
        probe_settings: ProbeSettings | None = None,
        read_only: bool = False,
        channel: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock: Clock = clock or LoopClock()
        self.client_factory = client_factory or self._default_client
        self.user = user
        self.rng = rng or random.Random()
        self.bus = EventBus()
        self.monitor = SharedMonitor(
            store,
            self.bus,
            claims=store,  # a run another live process polls is followed, not polled
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
        self._serve_as(read_only, channel)
        self.live = LiveFeed(store, self.bus, self.monitor, clock=self.clock)
        self.receiver: Receiver | None = None
        self.receiver_note: str | None = None  # why an optional receiver did not start
        self._clients: dict[str, CrewClient] = {}
        self._watched: dict[str, TokenWatch] = {}  # the same clients, as handed out
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

    def _default_client(self, crew: CrewConfig, token: Secret) -> CrewClient:
        return default_client(self.store, crew, token)

    async def start(self, *, receiver_optional: bool = False) -> None:
        """Reconcile a crash, close the human-input requests of runs already final, make
        clients, start the receiver if enabled, track every unfinished run.

        With `receiver_optional` (one-shot commands) a receiver that cannot hold its port
        (another crewdash has it) is left out and `receiver_note` says so: polling sees every
        pause anyway. Otherwise the OSError is the caller's."""
        if self._started:
            return
        self._started = True
        self.live.mark()  # what other processes write from now on is published
        for record in reconcile_interrupted(self.store):
            self.bus.publish(RunChanged(record))
        self.inbox_.close_finished()  # nothing pops up for a run that has ended meanwhile
        self._make_clients()
        if self.config.receiver.enabled:
            # a read-only or browser's dashboard is one of many on this config: not its port
            served = self.read_only or self.channel is not None
            await self._start_receiver(receiver_optional or served)
        await self.monitor.start()
        for record in self.store.unfinished():
            cfg = self.config.crews.get(record.crew)
            if cfg is None:
                continue  # a crew not configured here (or not asked about): nobody polls it
            spread = self.rng.uniform(0, cfg.poll_min)
            self.monitor.track(record, delay=spread)  # spread a restart's first polls
        self.probe.start()
        self.live.start()

    def _make_clients(self) -> None:
        """A client per crew with a usable token, handed to the monitor with what the store
        knows of the crew's pace, its runs' durations and their phases' lengths."""
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
            self.monitor.learn_history(crew.name, self.store.phase_history(crew.name))

    async def _start_receiver(self, receiver_optional: bool) -> None:
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

    async def stop(self) -> None:
        await self.live.stop()
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

    def _set_client(self, crew: str, client: CrewClient) -> None:
        self._clients[crew] = client
        self._watched[crew] = TokenWatch(
            client,
            lambda: self.monitor.token_rejected(crew),
            lambda: self.monitor.token_accepted(crew),
        )

    def _probe_seen(self, event: CrewHealthChanged) -> None:
        """The probe's word, unless the crew's token was rejected: a health check may pass
        without the token, so only a request with it (or a new token) ends a rejection."""
        if not self.monitor.is_rejected(event.crew):
            self.bus.publish(event)

    def client(self, crew: str) -> CrewClient:
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
        channel: str = "",
    ) -> AnswerOutcome:
        """Answer a request; `seen` (`HumanRequest.identity` of what was shown) makes sure the
        answer goes to that pause and no other (see `Inbox.answer`). `channel`: the front end
        the answer came through when not the store's own (crewdash.core.audit)."""
        return await self.inbox_.answer(
            request_id,
            feedback=feedback,
            approve=approve,
            outcome=outcome,
            user=self.user,
            seen=seen,
            via=channel,
        )

    def superseded_by(self, request_id: str) -> HumanRequest | None:
        """After an answer came back SUPERSEDED: the request that waits now in its place."""
        return self.inbox_.superseded_by(request_id)

    def _on_status(self, record: RunRecord, status: RunStatus) -> None:
        self.inbox_.seen_status(record, status)
        # A poll answered: the monitor's view of the crew is current. If the last word was
        # the probe's and differs (offline before this run started), say what is true now.
        health, detail = self.monitor.crew_health(record.crew)
        latest = self._health.get(record.crew)
        if latest is not None and (latest.health, latest.detail) != (health, detail):
            self.bus.publish(CrewHealthChanged(record.crew, health, detail, self.clock.time()))

    # --- webhook deliveries: polling sooner; step/task/crew ones kept as the run's events ---

    def _poll_kickoff(self, crew: str, kickoff_id: object) -> None:
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
        kept = keep_delivery(self.store, crew, payload)  # the run's event stream
        if kept is not None:
            self.bus.publish(RunEventsAdded(kept.local_id))
        self._poll_kickoff(crew, payload.get("kickoff_id") or payload.get("execution_id"))
