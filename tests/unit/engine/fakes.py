"""Small fakes for the engine's unit tests: a manual clock and scripted clients."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crewdash.aop.models import Progress, RunResult, RunState, RunStatus
from crewdash.core.config.model import CrewConfig, TokenSource
from crewdash.core.models import RunRecord
from crewdash.core.store.database import RunStore


async def settle(rounds: int = 30) -> None:
    """Let every ready task run (no time passes)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class ManualClock:
    """Time moves only when a test calls `advance`; sleepers wake in order."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.wall_offset = 1_700_000_000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall_offset + self.now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), fut))
        await fut

    async def advance(self, seconds: float, step: float | None = None) -> None:
        target = self.now + seconds
        await settle()
        while True:
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > target:
                break
            at, _, fut = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            fut.set_result(None)
            await settle()
        self.now = target
        await settle()

    async def run_until(
        self, condition: Callable[[], bool], limit: float, step: float = 0.5
    ) -> None:
        """Advance in steps until `condition()` holds; fail after `limit` virtual seconds."""
        end = self.now + limit
        while not condition():
            assert self.now < end, "condition not reached in virtual time"
            await self.advance(step)


def status(
    state: RunState = RunState.RUNNING,
    task: str | None = "research",
    done: int = 0,
    total: int = 3,
    raw: str | None = None,
    **kw: Any,
) -> RunStatus:
    return RunStatus(
        state=state,
        raw_state=raw or str(state),
        current_task=task,
        progress=Progress(done, total),
        **kw,
    )


def completed(output: str = "done") -> RunStatus:
    return RunStatus(
        state=RunState.COMPLETED,
        raw_state="completed",
        result=RunResult(output=output),
        progress=Progress(3, 3),
    )


class ScriptedClient:
    """Answers `status` from a function of (kickoff id, now); records every call."""

    def __init__(
        self, clock: ManualClock, answer: Callable[[str, float], RunStatus | BaseException]
    ) -> None:
        self.clock = clock
        self.answer = answer
        self.calls: list[tuple[float, str]] = []
        self.in_flight = 0
        self.peak = 0
        self.gate: asyncio.Event | None = None

    async def status(self, kickoff_id: str) -> RunStatus:
        self.calls.append((self.clock.now, kickoff_id))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            result = self.answer(kickoff_id, self.clock.now)
        finally:
            self.in_flight -= 1
        if isinstance(result, BaseException):
            raise result
        return result

    def calls_for(self, kickoff_id: str) -> list[float]:
        return [t for t, k in self.calls if k == kickoff_id]


def crew_config(
    name: str = "research", poll_min: float = 1.0, poll_max: float = 30.0
) -> CrewConfig:
    return CrewConfig(
        name=name,
        url=f"http://127.0.0.1:1/crews/{name}",
        token=TokenSource(env="X"),
        poll_min=poll_min,
        poll_max=poll_max,
    )


def accepted_run(
    store: RunStore, crew: str = "research", kickoff_id: str | None = None, at: float | None = None
) -> RunRecord:
    rec = store.create_intent(crew, {"topic": "x"}, str(uuid.uuid4()), {}, at=at)
    return store.mark_accepted(rec.local_id, kickoff_id or str(uuid.uuid4()), at=at)


def open_store(tmp_path: Path) -> RunStore:
    return RunStore.open(tmp_path / "runs.sqlite3", synchronous="OFF")
