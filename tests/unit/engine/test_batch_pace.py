"""Batch pace (issue 17): a batch starts at its full concurrency unless the crew's learnt
rate says fewer will do, and under a learnt rate its kickoffs go evenly spaced."""

from __future__ import annotations

import asyncio

from crewdash.core.runs.batch import BatchProgress, run_batch
from crewdash.core.runs.batch_types import initial_concurrency
from crewdash.core.runs.pacer import save_rate
from engine.fakes import ManualClock, settle


class HeldServer:
    """Holds every kickoff until `release` is set; notes when each one arrived."""

    def __init__(self, clock: ManualClock, release: asyncio.Event | None = None) -> None:
        self.clock = clock
        self.release = release
        self.in_flight = 0
        self.sent_at: list[float] = []

    async def kickoff(self, inputs, *, meta=None, webhooks=None, human_input_webhook=None):
        self.sent_at.append(self.clock.monotonic())
        self.in_flight += 1
        try:
            if self.release is not None:
                await self.release.wait()
            return f"kick-{inputs['n']}"
        finally:
            self.in_flight -= 1


def test_initial_concurrency_is_the_maximum_unless_a_learnt_rate_says_fewer() -> None:
    assert initial_concurrency(10, None) == 10
    assert initial_concurrency(10, 3.2) == 4
    assert initial_concurrency(10, 50.0) == 10
    assert initial_concurrency(10, 0.2) == 1


async def test_a_batch_starts_with_its_full_concurrency_in_flight(store) -> None:
    clock = ManualClock()
    server = HeldServer(clock, asyncio.Event())
    seen: list[BatchProgress] = []
    rows = [{"n": i} for i in range(20)]
    task = asyncio.ensure_future(
        run_batch(store, server, "c", rows, max_concurrency=6, clock=clock, on_progress=seen.append)
    )
    await settle()
    assert server.in_flight == 6  # all at once: no ramp from two
    assert seen[0].limit == 6
    assert server.release is not None
    server.release.set()
    result = await asyncio.wait_for(task, 5)
    assert result.progress.accepted == 20


async def test_a_learnt_rate_starts_the_batch_with_fewer_in_flight(store) -> None:
    clock = ManualClock()
    save_rate(store, "c", 3.0, clock.time())
    seen: list[BatchProgress] = []
    server = HeldServer(clock)
    task = asyncio.ensure_future(
        run_batch(
            store, server, "c", [{"n": i} for i in range(6)], max_concurrency=10,
            clock=clock, on_progress=seen.append,
        )
    )  # fmt: skip
    while not task.done():
        await clock.advance(0.1)
    assert seen[0].limit == 3
    assert task.result().progress.accepted == 6


async def test_under_a_learnt_rate_kickoffs_go_evenly_spaced(store) -> None:
    clock = ManualClock()
    save_rate(store, "c", 10.0, clock.time())
    server = HeldServer(clock)
    task = asyncio.ensure_future(
        run_batch(
            store, server, "c", [{"n": i} for i in range(30)], max_concurrency=10, clock=clock
        )
    )
    while not task.done():
        await clock.advance(0.01)
    assert task.result().progress.accepted == 30
    gaps = [b - a for a, b in zip(server.sent_at, server.sent_at[1:], strict=False)]
    # one every 100 ms: never two together (a burst), never a longer pause
    assert min(gaps) >= 0.1 - 1e-6
    assert max(gaps) <= 0.1 + 1e-6
