"""Batch kickoff: adaptive concurrency (AIMD) and resuming a batch without duplicates."""

from __future__ import annotations

import asyncio

from crewdash.aop.errors import AuthenticationError, RateLimitedError, ServerError
from crewdash.core.models import KickoffPhase
from crewdash.core.runs.batch import AIMDLimit, BatchProgress, batch_key, run_batch
from crewdash.core.runs.kickoff import META_KEY
from engine.fakes import ManualClock, settle


class FakeKickoffServer:
    """Accepts up to `capacity` concurrent kickoffs, answers 429 beyond that."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self.active = 0
        self.peak = 0
        self.accepted: list[dict] = []
        self.rejected = 0
        self.fail: dict[str, BaseException] = {}  # input "n" -> error to raise once

    async def kickoff(self, inputs, *, meta=None, webhooks=None, human_input_webhook=None):
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await settle(3)  # overlap with others
            error = self.fail.pop(str(inputs["n"]), None)
            if error is not None:
                raise error
            if self.active > self.capacity:
                self.rejected += 1
                raise RateLimitedError("too many", retry_after=0.5)
            self.accepted.append({"n": inputs["n"], "request": meta[META_KEY]})
            return f"kick-{inputs['n']}-{len(self.accepted)}"
        finally:
            self.active -= 1


async def drive(clock: ManualClock, coro):
    task = asyncio.ensure_future(coro)
    while not task.done():
        await clock.advance(0.1)
    return task.result()


def test_aimd_grows_on_success_halves_on_failure_within_bounds() -> None:
    limit = AIMDLimit(8, start=2)
    for _ in range(100):
        limit.success()
    assert limit.limit == 8
    limit.backoff(0.0)
    assert limit.limit == 4
    limit.backoff(0.5)  # within the cooldown: the same burst, counted once
    assert limit.limit == 4
    for t in range(1, 10):
        limit.backoff(float(t))
    assert limit.limit == 1


async def test_concurrency_adapts_to_429s_and_every_row_starts_once(store) -> None:
    clock = ManualClock()
    server = FakeKickoffServer(capacity=3)
    rows = [{"n": i} for i in range(40)]
    seen: list[BatchProgress] = []
    result = await drive(
        clock,
        run_batch(
            store,
            server,
            "research",
            rows,
            max_concurrency=10,
            on_progress=seen.append,
            clock=clock,
        ),
    )
    assert result.progress.accepted == 40 and result.progress.done == 40
    assert sorted(a["n"] for a in server.accepted) == list(range(40))
    assert server.rejected > 0  # it did hit the limit ...
    assert server.peak <= 10  # ... never beyond the ceiling
    assert all(1 <= p.limit <= 10 for p in seen)
    # it came down toward capacity (the crew's pacer also slows the requests after a 429,
    # so fewer 429s reach the concurrency than without it)
    assert min(p.limit for p in seen[len(seen) // 2 :]) < 10
    assert all(r is not None and r.phase is KickoffPhase.ACCEPTED for r in result.runs)


async def test_running_a_batch_again_skips_rows_already_kicked_off(store) -> None:
    clock = ManualClock()
    server = FakeKickoffServer()
    rows = [{"n": i} for i in range(12)]
    key = batch_key(b"n\n0\n1\n")
    server.fail["3"] = ServerError("502", status_code=502)  # may have started: UNKNOWN
    server.fail["5"] = AuthenticationError("revoked")  # stops the batch
    first = await drive(
        clock, run_batch(store, server, "research", rows, key=key, max_concurrency=1, clock=clock)
    )
    assert first.progress.accepted == 4  # rows 0,1,2,4
    assert first.progress.unknown == 1 and first.progress.refused == 1
    assert first.errors[6] == "not started"
    second = await drive(clock, run_batch(store, server, "research", rows, key=key, clock=clock))
    assert second.progress.skipped == 4  # accepted rows are not resent ...
    assert second.progress.unknown == 1 and "unknown since an earlier run" in second.errors[3]
    assert second.progress.accepted == 7  # 5 (refused) and 6..11
    assert not second.progress.all_accepted  # row 3 is still to be resolved
    [row3] = second.account()
    assert row3["index"] == 3 and row3["phase"] == "unknown"
    assert len(store.list_runs()) == 12  # one store row per input row
    counts: dict[int, int] = {}
    for a in server.accepted:
        counts[a["n"]] = counts.get(a["n"], 0) + 1
    assert 3 not in counts  # never resent: it may exist on the server
    assert all(c == 1 for c in counts.values()) and len(counts) == 11
    third = await drive(clock, run_batch(store, server, "research", rows, key=key, clock=clock))
    assert third.progress.skipped == 11 and third.progress.accepted == 0


def test_batch_key_is_stable() -> None:
    rows = [{"b": 1, "a": 2}]
    assert batch_key(rows) == batch_key([{"a": 2, "b": 1}])
    assert batch_key(b"x") != batch_key(b"y")


class GatedKickoffServer:
    """Holds every kickoff until `release` is set, so a test can stop a batch mid-flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.accepted: list[int] = []

    async def kickoff(self, inputs, *, meta=None, webhooks=None, human_input_webhook=None):
        self.in_flight += 1
        try:
            await self.release.wait()
            self.accepted.append(inputs["n"])
            return f"kick-{inputs['n']}"
        finally:
            self.in_flight -= 1


async def test_a_stopped_batch_finishes_in_flight_rows_and_leaves_the_rest_unstored(
    store,
) -> None:
    clock = ManualClock()
    server = GatedKickoffServer()
    rows = [{"n": i} for i in range(10)]
    stop = asyncio.Event()
    task = asyncio.ensure_future(
        run_batch(
            store, server, "research", rows, key="k", max_concurrency=2, clock=clock, stop=stop
        )
    )
    await settle()
    assert server.in_flight == 2
    stop.set()
    await settle()
    server.release.set()  # the two on the wire answer after the stop
    result = await asyncio.wait_for(task, 5)

    assert sorted(server.accepted) == [0, 1]
    assert result.stopped and result.progress.accepted == 2
    assert result.progress.not_started == 8 and result.progress.refused == 0
    assert result.errors == {}
    stored = store.list_runs(crew="research")
    assert len(stored) == 2 and all(r.phase is KickoffPhase.ACCEPTED for r in stored)

    again = await drive(clock, run_batch(store, server, "research", rows, key="k", clock=clock))
    assert again.progress.skipped == 2 and again.progress.accepted == 8
    assert again.progress.not_started == 0 and not again.stopped
    assert sorted(server.accepted) == list(range(10))  # every row exactly once


async def test_stop_wakes_a_batch_waiting_out_a_retry_after(store) -> None:
    clock = ManualClock()
    server = FakeKickoffServer()
    server.fail["0"] = RateLimitedError("slow down", retry_after=600)
    stop = asyncio.Event()
    task = asyncio.ensure_future(
        run_batch(
            store, server, "research", [{"n": 0}], key="r", max_concurrency=1, clock=clock,
            stop=stop,
        )
    )  # fmt: skip
    await clock.advance(1)  # row 0 refused with 429, the batch waits 600 s to retry it
    assert not task.done()
    stop.set()
    result = await asyncio.wait_for(task, 5)  # no virtual time passes
    assert result.stopped and result.progress.not_started == 1
    assert result.progress.accepted == 0 and server.accepted == []


async def test_resend_unknown_sends_those_rows_again_on_their_own_run_rows(store) -> None:
    clock = ManualClock()
    server = FakeKickoffServer()
    rows = [{"n": i} for i in range(4)]
    server.fail["2"] = ServerError("504", status_code=504)  # may have started: UNKNOWN
    first = await drive(clock, run_batch(store, server, "research", rows, key="u", clock=clock))
    assert first.progress.unknown == 1 and not first.progress.all_accepted
    [unknown] = store.list_runs(phases=[KickoffPhase.UNKNOWN])
    again = await drive(
        clock,
        run_batch(store, server, "research", rows, key="u", clock=clock, resend_unknown=True),
    )
    assert again.progress.skipped == 3 and again.progress.accepted == 1
    assert again.progress.all_accepted
    resent = store.get(unknown.local_id)
    assert resent is not None and resent.phase is KickoffPhase.ACCEPTED
    assert resent.attempts == 2 and resent.request_id != unknown.request_id
    assert len(store.list_runs()) == 4
    actions = [(a["action"], a["detail"][:22]) for a in store.actions(unknown.local_id)]
    # the first kickoff (unknown), the resend, its kickoff (accepted)
    assert actions == [
        ("kickoff", "unknown: 504 — the ser"),
        ("resend", "batch --resend-unknown"),
        ("kickoff", "accepted"),
    ]
