"""`SimApp`: the simulator's state (crews, runs, stats, deliveries) behind a Starlette app.

HTTP lives in `crewdash.sim.routes` and the handler modules it names; the run state machine
in `crewdash.sim.runs`. Nothing here depends on ASGI lifespan (httpx.ASGITransport never
runs it): the webhook ticker starts lazily, on the first run that has something to deliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from dataclasses import replace
from types import EllipsisType
from typing import TYPE_CHECKING, Any

import httpx

from crewdash.sim import payloads
from crewdash.sim.clock import SimClock, SystemClock
from crewdash.sim.crew_state import CallbackError, CrewState, match_outcome
from crewdash.sim.faults import FaultInjector
from crewdash.sim.runs import Event, NotPausedError, Run, Snapshot, UnknownTaskError
from crewdash.sim.scenario import CrewSpec, FaultSpec, FlowWebhook, OfflineMode, Scenario
from crewdash.sim.stats import SimStats
from crewdash.sim.webhooks import Deliverer

if TYPE_CHECKING:  # starlette is imported lazily (start-up cost), its types only here
    from starlette.types import Receive, Scope, Send

__all__ = ["CallbackError", "NotPausedError", "SimApp", "UnknownTaskError"]

_OFFLINE_MODES: dict[str, OfflineMode] = {"503": "503", "drop": "drop"}


class SimApp:
    """An ASGI app simulating every crew of a scenario under `/crews/<name>`."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        speed: float = 1.0,
        clock: SimClock | None = None,
        webhook_timeout: float = 30.0,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        tick_interval: float = 0.05,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        from crewdash.sim.routes import build_routes  # Starlette loads with the first app

        self.scenario = scenario
        self.seed = seed
        self.speed = speed
        self.clock: SimClock = clock or SystemClock()
        self.tick_interval = tick_interval
        self.public_url: str | None = None  # set by serve_in_background
        self.stats = SimStats()
        self.deliverer = Deliverer(
            self.stats.delivery, timeout=webhook_timeout, transport=webhook_transport
        )
        self._ids = random.Random(f"{seed}:ids")
        self.crews: dict[str, CrewState] = {}
        for spec in scenario.crews:
            token_bits = random.Random(f"{seed}:token:{spec.name}").getrandbits(64)
            token = spec.token or f"sim-{spec.name}-{token_bits:016x}"
            self.crews[spec.name] = CrewState(
                spec=spec,
                token=token,
                faults=FaultInjector(spec.faults, random.Random(f"{seed}:faults:{spec.name}")),
                rng=random.Random(f"{seed}:runs:{spec.name}"),
            )
        self._watched: dict[str, Run] = {}
        self._callbacks: dict[str, tuple[str, str, tuple[int, int]]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._asgi = build_routes(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    # -- names ----------------------------------------------------------------------------
    def base_url_path(self, crew_name: str) -> str:
        self._crew(crew_name)
        return f"/crews/{crew_name}"

    def token(self, crew_name: str) -> str:
        return self._crew(crew_name).token

    def crew_spec(self, crew_name: str) -> CrewSpec:
        return self._crew(crew_name).spec

    def _crew(self, name: str) -> CrewState:
        try:
            return self.crews[name]
        except KeyError:
            raise KeyError(f"no crew named {name!r} in scenario {self.scenario.name!r}") from None

    # -- control --------------------------------------------------------------------------
    def configure(
        self,
        crew_name: str,
        *,
        offline: bool | None = None,
        offline_mode: str | None = None,
        faults: dict[str, Any] | FaultSpec | None = None,
        flow_webhook: FlowWebhook | EllipsisType | None = ...,
    ) -> CrewSpec:
        """Change a crew at run time: offline/online, its faults, its flow webhook (`...`:
        leave it; None: remove it)."""
        state = self._crew(crew_name)
        spec = state.spec
        if offline is not None:
            spec = replace(spec, offline=offline)
        if offline_mode is not None:
            mode = _OFFLINE_MODES.get(offline_mode)
            if mode is None:
                raise ValueError("offline_mode must be '503' or 'drop'")
            spec = replace(spec, offline_mode=mode)
        if faults is not None:
            if isinstance(faults, dict):
                faults = FaultSpec(**{**_fault_dict(spec.faults), **faults})
            spec = replace(spec, faults=faults)
            state.faults.spec = faults
        if not isinstance(flow_webhook, EllipsisType):
            spec = replace(spec, flow_webhook=flow_webhook)
        state.spec = spec
        return spec

    # -- runs -----------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.monotonic()

    def start_run(
        self,
        crew_name: str,
        inputs: dict[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: dict[str, str] | None = None,
        human_input_webhook: dict[str, Any] | None = None,
        event_stream: dict[str, Any] | None = None,
        base_url: str = "",
    ) -> Run:
        state = self._crew(crew_name)
        spec = state.spec
        fail_index = next(
            (
                i
                for i, t in enumerate(spec.tasks)
                if t.fail_rate and state.rng.random() < t.fail_rate
            ),
            None,
        )
        kickoff_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        now = self.now()
        run = Run(
            kickoff_id,
            spec,
            inputs,
            now=now,
            wall_offset=self.clock.time() - now,
            speed=self.speed,
            fail_index=fail_index,
            meta=meta,
            webhooks=webhooks,
            human_input_webhook=human_input_webhook,
            event_stream=event_stream,
            base_url=base_url,
        )
        state.runs[kickoff_id] = run
        self.stats.kickoffs.append(
            {"crew": crew_name, "kickoff_id": kickoff_id, "meta": meta or {}, "inputs": inputs}
        )
        self._watch(run)
        return run

    def get_run(self, crew_name: str, kickoff_id: str) -> Run | None:
        state = self._crew(crew_name)
        run = state.runs.get(kickoff_id)
        if run is None or state.spec.expire_after is None:
            return run
        now = self.now()
        ended_at = run.snapshot(now).ended_at
        if ended_at is not None and now - ended_at > state.spec.expire_after / self.speed:
            del state.runs[kickoff_id]
            self._watched.pop(kickoff_id, None)
            return None
        return run

    def snapshot(self, run: Run) -> Snapshot:
        snap = run.snapshot(self.now())
        if run.kickoff_id in self._watched:
            self._deliver_due(run)
        return snap

    def resume(
        self,
        crew_name: str,
        run: Run,
        task_id: str,
        feedback: str,
        approve: bool,
        webhooks: dict[str, str],
    ) -> str:
        """Apply `/resume`; the webhook URLs of the body replace the kickoff's (not carried)."""
        self._deliver_due(run)  # what happened before the answer is delivered first
        snap = run.snapshot(self.now())
        outcome = None
        if snap.state == "paused":
            outcome = match_outcome(feedback, run.tasks[snap.task_index].emit)
        status = run.resume(self.now(), task_id, feedback, approve, outcome)
        run.webhooks = webhooks
        self._watch(run)
        return status

    def answer_callback(self, token: str, feedback: str, outcome: str | None) -> dict[str, Any]:
        entry = self._callbacks.get(token)
        if entry is None:
            raise CallbackError(404, "Not Found", "Unknown callback")
        crew_name, kickoff_id, key = entry
        run = self._crew(crew_name).runs.get(kickoff_id)
        if run is None:
            raise CallbackError(404, "Not Found", "The execution has expired")
        if key in run.answered:
            raise CallbackError(409, "already_responded", "This request was already answered")
        snap = run.snapshot(self.now())
        if snap.state != "paused" or (snap.task_index, run.attempt) != key:
            raise CallbackError(409, "already_responded", "The execution is no longer waiting")
        task = run.tasks[snap.task_index]
        chosen = outcome if outcome in task.emit else match_outcome(feedback, task.emit)
        if chosen is None and task.emit:
            chosen = task.emit[0]
        approve = chosen not in task.retry_outcomes
        status = run.resume(self.now(), task.id, feedback, approve, chosen)
        self._watch(run)
        return {"status": "accepted", "outcome": chosen, "execution": status}

    def live_runs(self) -> int:
        now = self.now()
        return sum(
            1 for s in self.crews.values() for r in s.runs.values() if not r.snapshot(now).is_final
        )

    def stats_snapshot(self) -> dict[str, Any]:
        total = sum(len(s.runs) for s in self.crews.values())
        return self.stats.snapshot(live_runs=self.live_runs(), total_runs=total)

    # -- webhooks -------------------------------------------------------------------------
    def _watch(self, run: Run) -> None:
        """Hand `run` to the ticker when it has anything to deliver (webhooks, a flow)."""
        if run.webhooks or run.human_input_webhook or run.event_stream or run.crew.kind == "flow":
            self._watched[run.kickoff_id] = run
            self._ensure_ticker()

    def _ensure_ticker(self) -> None:
        if self._ticker is not None and not self._ticker.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._ticker = loop.create_task(self._tick_loop())

    async def _tick_loop(self) -> None:
        while self._watched:
            await asyncio.sleep(self.tick_interval)
            self.tick()

    def tick(self) -> None:
        """Deliver every webhook whose moment has come (the ticker calls this; tests too)."""
        now = self.now()
        for run in list(self._watched.values()):
            self._deliver_due(run)
            snap = run.snapshot(now)
            if snap.state == "paused":
                self._maybe_escalate(run, snap, now)
            if snap.is_final and (snap.state == "stopped" or run.cursor >= len(run.events())):
                self._watched.pop(run.kickoff_id, None)

    async def drain_webhooks(self) -> None:
        """Deliver what is due now and wait until every delivery in flight has finished."""
        self.tick()
        await self.deliverer.drain()

    def _deliver_due(self, run: Run) -> None:
        if run.stopped_at is not None:
            return
        now = self.now()
        events = run.events()
        while run.cursor < len(events) and events[run.cursor].at <= now:
            event = events[run.cursor]
            run.cursor += 1
            self._deliver(run, event)

    def _deliver(self, run: Run, event: Event) -> None:
        wall = event.at + run.wall_offset
        crew = self.crews[run.crew.name].spec
        send = self.deliverer.send
        extra = {"crew": crew.name, "kickoff_id": run.kickoff_id}
        hook_key = {"step": "stepWebhookUrl", "task": "taskWebhookUrl", "crew": "crewWebhookUrl"}
        key = hook_key.get(event.kind)
        if key and run.webhooks.get(key):
            payload = payloads.simple_webhook(run, event, wall, crew)
            send(event.kind, run.webhooks[key], payload, extra=extra)
        stream = run.event_stream
        if stream:
            item = payloads.stream_event(run, event, wall, crew, self._ids)
            wanted = stream.get("events") or []
            if not wanted or item["type"] in wanted:
                auth = stream.get("authentication") or {}
                send(
                    "events",
                    stream["url"],
                    {"events": [item]},
                    bearer=auth.get("token"),
                    extra=extra,
                )
        if event.kind != "pause":
            return
        if crew.kind == "crew" and run.human_input_webhook:
            hook = run.human_input_webhook
            auth = hook.get("authentication") or {}
            payload = payloads.human_input(run, event, wall)
            send("human_input", hook["url"], payload, bearer=auth.get("token"), extra=extra)
        elif crew.kind == "flow" and crew.flow_webhook:
            self._send_flow_request(run, event.task_index, "new_request", wall, crew.flow_webhook)

    def _callback_url(self, run: Run, index: int) -> str:
        key = (index, run.attempt)
        token = run.callback_tokens.get(key)
        if token is None:
            token = f"{self._ids.getrandbits(96):024x}"
            run.callback_tokens[key] = token
            self._callbacks[token] = (run.crew.name, run.kickoff_id, key)
        base = self.public_url or run.base_url or "http://127.0.0.1"
        return f"{base}/_sim/callbacks/{token}"

    def _send_flow_request(
        self, run: Run, index: int, event_type: str, wall: float, hook: FlowWebhook
    ) -> None:
        payload = payloads.flow_request(
            run, index, event_type, self._callback_url(run, index), hook
        )
        self.deliverer.send(
            event_type,
            hook.url,
            payload,
            secret=hook.secret,
            timestamp=self.clock.time(),
            extra={"crew": run.crew.name, "kickoff_id": run.kickoff_id},
        )

    def _maybe_escalate(self, run: Run, snap: Snapshot, now: float) -> None:
        hook = self.crews[run.crew.name].spec.flow_webhook
        if run.crew.kind != "flow" or hook is None or hook.sla_target_minutes is None:
            return
        key = (snap.task_index, run.attempt)
        if key in run.escalated or key in run.answered or snap.pause_since is None:
            return
        if now - snap.pause_since >= hook.sla_target_minutes * 60 / self.speed:
            run.escalated.add(key)
            self._send_flow_request(run, snap.task_index, "escalation", self.clock.time(), hook)

    async def aclose(self) -> None:
        """Stop the ticker and any delivery in flight. The app stays usable afterwards."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.deliverer.aclose()


def _fault_dict(spec: FaultSpec) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(spec)
