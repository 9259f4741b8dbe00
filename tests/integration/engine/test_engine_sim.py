"""The engine against the simulator over real loopback HTTP, with the simulator's faults on."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crewdash.aop import AsyncCrewClient, CircuitBreaker, RetryPolicy
from crewdash.aop.errors import AOPError
from crewdash.aop.models import RunState, Secret
from crewdash.core.config.model import Config, CrewConfig, ReceiverConfig
from crewdash.core.engine import Engine
from crewdash.core.models import (
    AnswerOutcome,
    CrewHealth,
    CrewHealthChanged,
    InboxChanged,
    KickoffPhase,
    RunRecord,
)
from crewdash.core.runs.kickoff import META_KEY
from crewdash.core.store.database import RunStore
from tests.sim_config import sim_config


class Recording(httpx.AsyncBaseTransport):
    """A real HTTP transport that notes when each request left and how it ended."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[tuple[float, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        at = asyncio.get_running_loop().time()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception:
            self.log.append((at, request.url.path, 0))
            raise
        self.log.append((at, request.url.path, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_config(server: Any, names: list[str], receiver: ReceiverConfig | None = None) -> Config:
    return sim_config(server, names, receiver, connect_timeout=2.0, read_timeout=5.0)


def recording_factory(transports: dict[str, Recording]) -> Callable[[CrewConfig, Secret], Any]:
    def factory(crew: CrewConfig, token: Secret) -> AsyncCrewClient:
        transports[crew.name] = Recording()
        return AsyncCrewClient(
            crew.url, token, retry=RetryPolicy.none(), transport=transports[crew.name]
        )

    return factory


async def kickoff_until_started(engine: Engine, crew: str, inputs: dict) -> RunRecord | None:
    """Retry only kickoffs the server provably refused; an UNKNOWN one is never resent."""
    for _ in range(30):
        try:
            return await engine.kickoff(crew, inputs)
        except AOPError:
            last = engine.store.list_runs(crew=crew, limit=1)[0]
            if last.phase is KickoffPhase.UNKNOWN:
                return None
            await asyncio.sleep(0.2)  # the server said no (429, ...): try a little later
    raise AssertionError("kickoff kept being refused")


async def wait_until(engine: Engine, condition: Callable[[], bool], limit: float) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


async def test_every_run_reaches_its_true_final_state_under_faults(
    sim_app_factory, sim_serve, sim_stats, tmp_path: Path
) -> None:
    app = sim_app_factory("testing")
    faults = {"error_rate": 0.15, "drop_rate": 0.05, "bad_body_rate": 0.05, "latency": 0.003}
    for name in ("basic", "failing", "review", "legacy"):
        app.configure(name, faults=faults)
    truth = {
        "basic": RunState.COMPLETED,
        "review": RunState.COMPLETED,
        "legacy": RunState.COMPLETED,
        "failing": RunState.ERROR,
    }
    inputs = {
        "basic": {"topic": "tides"},
        "review": {"brief": "launch"},
        "legacy": {"count": 3, "ratio": 0.5},
        "failing": {"x": "y"},
    }
    async with sim_serve(app) as server:
        store = RunStore.open(tmp_path / "runs.sqlite3")
        engine = Engine(make_config(server, list(truth)), store)
        await engine.start()
        answering: set[str] = set()
        tasks: list[asyncio.Future[None]] = []

        def answer_pending(event: Any) -> None:
            if isinstance(event, InboxChanged) and event.request.answered is None:
                rid = event.request.id
                if rid not in answering:
                    answering.add(rid)
                    tasks.append(asyncio.ensure_future(answer(rid)))

        async def answer(rid: str) -> None:
            for _ in range(20):  # FAILED may be retried; anything else is final
                if await engine.answer(rid, feedback="fine", approve=True) is not (
                    AnswerOutcome.FAILED
                ):
                    return
                await asyncio.sleep(0.05)

        engine.subscribe(answer_pending)
        runs: list[RunRecord] = []
        for crew in truth:
            for _ in range(4):
                run = await kickoff_until_started(engine, crew, inputs[crew])
                if run is not None:
                    runs.append(run)
        assert len(runs) >= 12

        def all_final() -> bool:
            return all(engine.run(r.local_id).state.is_final for r in runs)

        await wait_until(engine, all_final, 60)
        # every answer done (its refresh too) before the engine stops and the store closes
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        await engine.stop()
        for r in runs:
            assert engine.run(r.local_id).state is truth[r.crew], r.crew
        stats = await sim_stats(server)
        store.close()
    # no kickoff duplicated: every request id at most once on the server
    sent = Counter(k["meta"].get(META_KEY) for k in stats["kickoffs"])
    assert max(sent.values()) == 1
    assert {r.kickoff_id for r in runs} <= {k["kickoff_id"] for k in stats["kickoffs"]}
    # no resume duplicated: one accepted resume per paused review run
    ok = Counter(
        (r["body"].get("execution_id"), r["body"].get("task_id"))
        for r in stats["resumes"]
        if r.get("status") == 200
    )
    review_runs = [r for r in runs if r.crew == "review"]
    assert len(ok) == len(review_runs) and set(ok.values()) == {1}
    assert sum(stats["faults"].get("basic", {}).values()) > 0  # the faults did fire


async def test_request_rate_never_exceeds_the_learnt_limit(
    sim_app_factory, sim_serve, tmp_path: Path
) -> None:
    app = sim_app_factory("testing", speed=1.0)  # runs of about 2.5 s
    app.configure("basic", faults={"rate_limit": 10, "rate_window": 1.0})
    transports: dict[str, Recording] = {}
    async with sim_serve(app) as server:
        store = RunStore.open(tmp_path / "runs.sqlite3")
        engine = Engine(
            make_config(server, ["basic"]), store, client_factory=recording_factory(transports)
        )
        await engine.start()
        runs = [await kickoff_until_started(engine, "basic", {"topic": "t"}) for _ in range(15)]
        assert all(runs)
        await wait_until(
            engine, lambda: all(engine.run(r.local_id).state.is_final for r in runs), 60
        )
        await engine.stop()
        assert all(engine.run(r.local_id).state is RunState.COMPLETED for r in runs)
        store.close()
    history = engine.monitor._crews["basic"].rate.history
    assert history, "the server's 429s must have taught a rate"
    statuses = [t for t, path, _ in transports["basic"].log if "/status/" in path]
    first = history[0][0]
    checked = 0
    for i, t in enumerate(statuses):
        if t < first:
            continue
        rate, capacity = next((r, c) for at, r, c in reversed(history) if at <= t)
        in_window = sum(1 for u in statuses[i:] if u < t + 1.0)
        assert in_window <= rate + capacity + 2, (t - first, in_window, rate)
        checked += 1
    assert checked >= 10


async def test_an_offline_crew_marks_runs_offline_then_they_finish(
    sim_app_factory, sim_serve, tmp_path: Path
) -> None:
    app = sim_app_factory("testing", speed=1.0)
    async with sim_serve(app) as server:
        store = RunStore.open(tmp_path / "runs.sqlite3")

        def factory(crew: CrewConfig, token: Secret) -> AsyncCrewClient:
            # a short breaker cool-down, so recovery is seen within the test
            breaker = CircuitBreaker(failure_threshold=5, cooldown=0.5)
            return AsyncCrewClient(crew.url, token, retry=RetryPolicy.none(), breaker=breaker)

        engine = Engine(make_config(server, ["basic"]), store, client_factory=factory)
        engine.monitor.settings = type(engine.monitor.settings)(offline_after_seconds=0.5)
        await engine.start()
        run = await engine.kickoff("basic", {"topic": "t"})
        app.configure("basic", offline=True)
        await wait_until(engine, lambda: engine.crew_health("basic")[0] is CrewHealth.OFFLINE, 20)
        assert engine.crew_health("basic")[1].startswith("crew offline since ")
        rec = engine.run(run.local_id)
        assert rec.offline_since is not None and rec.state is not RunState.ERROR
        app.configure("basic", offline=False)
        await wait_until(engine, lambda: engine.run(run.local_id).state.is_final, 30)
        await engine.stop()
        assert engine.run(run.local_id).state is RunState.COMPLETED
        assert engine.run(run.local_id).offline_since is None
        store.close()


async def test_receiver_gets_the_crew_hitl_delivery_and_one_answer_completes_the_run(
    sim_server, sim_stats, tmp_path: Path
) -> None:
    receiver = ReceiverConfig(enabled=True, host="127.0.0.1", port=0)
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine = Engine(make_config(sim_server, ["review"], receiver), store)
    await engine.start()
    assert engine.receiver_url and engine.receiver_url.startswith("http://127.0.0.1:")
    health: list[CrewHealthChanged] = []
    engine.subscribe(lambda e: isinstance(e, CrewHealthChanged) and health.append(e))
    run = await engine.kickoff("review", {"brief": "b"})
    assert run.webhooks.get("task_url", "").startswith(engine.receiver_url)
    await wait_until(engine, lambda: bool(engine.inbox()), 20)
    [request] = engine.inbox()
    assert request.id == f"{run.kickoff_id}:review" and request.output
    assert await engine.answer(request.id, feedback="ship it", approve=True) is (
        AnswerOutcome.ACCEPTED
    )
    await wait_until(engine, lambda: engine.run(run.local_id).state.is_final, 20)
    await engine.stop()
    stats = await sim_stats(sim_server)
    assert engine.run(run.local_id).state is RunState.COMPLETED
    assert engine.receiver.accepted > 0  # deliveries arrived and were taken
    assert len([r for r in stats["resumes"] if r.get("status") == 200]) == 1
    resume = stats["resumes"][0]["body"]
    assert resume.get("taskWebhookUrl") == run.webhooks["task_url"]  # the kickoff's URLs again
    assert engine.inbox() == []
    store.close()


@pytest.mark.parametrize("n", [1])
async def test_a_restart_tracks_unfinished_runs_again(sim_server, tmp_path: Path, n: int) -> None:
    path = tmp_path / "runs.sqlite3"
    store = RunStore.open(path)
    first = Engine(make_config(sim_server, ["basic"]), store)
    await first.start()
    run = await first.kickoff("basic", {"topic": "t"})
    await first.stop()  # before it finished
    second = Engine(make_config(sim_server, ["basic"]), store)
    await second.start()
    assert run.local_id in second.monitor.tracked() or second.run(run.local_id).state.is_final
    await wait_until(second, lambda: second.run(run.local_id).state.is_final, 20)
    await second.stop()
    assert second.run(run.local_id).state is RunState.COMPLETED
    store.close()
