"""Crew health as the engine tells it, against the simulator over loopback (issue 11 #7):
a crew answering the odd 5xx while its runs complete is never "offline"; a crew really gone
is, and one success brings it back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from crewdash.aop.errors import ServerError
from crewdash.core.engine import Engine
from crewdash.core.models import CrewHealth, CrewHealthChanged, Event, RunRecord
from crewdash.core.store.database import RunStore
from tests.sim_config import sim_config


async def wait_until(engine: Engine, condition: Callable[[], bool], limit: float) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


async def _kickoff(engine: Engine, crew: str, n: int) -> RunRecord:
    """A kickoff answered by a 5xx started no run (the simulator refuses before it does):
    send it again, as an operator would."""
    while True:
        try:
            return await engine.kickoff(crew, {"topic": f"t{n}"})
        except ServerError:
            continue


async def test_a_crew_answering_one_request_in_five_with_5xx_is_flaky_not_offline(
    sim_app_factory, sim_serve, tmp_path: Path
) -> None:
    app = sim_app_factory("testing", seed=7)
    async with sim_serve(app) as server:
        store = RunStore.open(tmp_path / "runs.sqlite3")
        engine = Engine(sim_config(server, ["basic"], connect_timeout=2.0, read_timeout=5.0), store)
        health: list[CrewHealthChanged] = []

        def seen(event: Event) -> None:
            if isinstance(event, CrewHealthChanged):
                health.append(event)

        engine.subscribe(seen)
        app.configure("basic", faults={"error_rate": 1.0})  # the first health check fails
        await engine.start()
        try:
            await wait_until(engine, lambda: bool(health), 10)
            assert health[0].health is CrewHealth.SLOW  # one failed check: flaky, not offline
            assert health[0].detail.startswith("flaky: ")
            app.configure("basic", faults={"error_rate": 0.2})
            runs = [await _kickoff(engine, "basic", n) for n in range(8)]
            await wait_until(
                engine, lambda: all(engine.run(r.local_id).state.is_final for r in runs), 60
            )
            assert {str(engine.run(r.local_id).state) for r in runs} == {"completed"}
            assert engine.requests_sent("basic") > 8
            assert CrewHealth.OFFLINE not in {e.health for e in health}
            assert all(engine.run(r.local_id).offline_since is None for r in runs)
        finally:
            await engine.stop()
            store.close()
