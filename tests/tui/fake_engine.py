"""A tiny stand-in for `crewdash.core.engine.Engine`, for unit tests of one shell widget or
screen. End-to-end tests use the real engine against the simulator instead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from crewdash.aop.models import InputSpec, InputType
from crewdash.core.config.model import Config, CrewConfig, CrewKind, TokenSource
from crewdash.core.models import (
    AnswerOutcome,
    CrewHealth,
    Event,
    HumanRequest,
    RunChanged,
    RunRecord,
)


def crew(name: str, kind: CrewKind = CrewKind.CREW) -> CrewConfig:
    return CrewConfig(
        name=name, url=f"http://127.0.0.1:9/crews/{name}", token=TokenSource(env="X"), kind=kind
    )


class FakeEngine:
    def __init__(self, config: Config, runs: list[RunRecord] | None = None) -> None:
        self.config = config
        self._runs = {r.local_id: r for r in runs or []}
        self._callbacks: list[Callable[[Event], None]] = []
        self.health: dict[str, tuple[CrewHealth, str]] = {}
        self.latency: dict[str, float] = {}
        self.requests: list[HumanRequest] = []
        self.specs: dict[str, list[InputSpec]] = {
            name: [InputSpec("topic", InputType.STRING, description="What to research")]
            for name in config.crews
        }
        self.kicked: list[tuple[str, dict[str, Any]]] = []
        self.asked_inputs: list[str] = []
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.answer_result = AnswerOutcome.ACCEPTED
        self.replacements: dict[str, HumanRequest] = {}  # request id -> the round after it
        self.inputs_gates: dict[str, asyncio.Event] = {}
        self.started = self.stopped = False
        self.receiver_url: str | None = None

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def publish(self, event: Event) -> None:
        if isinstance(event, RunChanged):
            if event.previous is None:  # as the real engine: the row before this change
                event = RunChanged(event.run, self._runs.get(event.run.local_id))
            self._runs[event.run.local_id] = event.run
        for callback in list(self._callbacks):
            callback(event)

    async def inputs(self, crew: str) -> list[InputSpec]:
        self.asked_inputs.append(crew)
        gate = self.inputs_gates.get(crew)
        if gate is not None:
            await gate.wait()  # a slow deployment: the test opens the gate (or never does)
        return self.specs[crew]

    async def kickoff(self, crew: str, inputs: dict[str, Any]) -> RunRecord:
        self.kicked.append((crew, inputs))
        run = RunRecord(f"l{len(self.kicked)}", crew, inputs, "r", 0.0, kickoff_id="k")
        self.publish(RunChanged(run))
        return run

    def runs(self) -> list[RunRecord]:
        return sorted(self._runs.values(), key=lambda r: -r.created_at)

    def run(self, local_id: str) -> RunRecord | None:
        return self._runs.get(local_id)

    def history(self, local_id: str) -> list[Any]:
        return []

    def decisions(self, local_id: str) -> list[Any]:
        return []

    def run_events(self, local_id: str, after: int = 0) -> list[Any]:
        return []

    def inbox(self) -> list[HumanRequest]:
        return [r for r in self.requests if r.answered is None]

    async def answer(self, request_id: str, **answer: Any) -> AnswerOutcome:
        self.answers.append((request_id, answer))
        return self.answer_result

    def superseded_by(self, request_id: str) -> HumanRequest | None:
        return self.replacements.get(request_id)

    def crew_health(self, crew: str) -> tuple[CrewHealth, str]:
        return self.health.get(crew, (CrewHealth.OK, ""))

    def crew_latency(self, crew: str) -> float | None:
        return self.latency.get(crew)
