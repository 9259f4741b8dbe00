"""2,000 runs tracked against the simulator: the engine's monitor side by side with the
reference guide's loop (fixed 2-second polling, one run after another).

Run: `uv run pytest tests/benchmarks/test_monitor_bench.py -m benchmark -s`
Reports requests/s, CPU seconds, peak RSS and the median delay between a state change on the
simulator (known exactly: runs follow their task durations) and its detection.
The store runs with synchronous=NORMAL here (FULL costs one fsync per change; see
tests/benchmarks/test_store_bench.py).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop import AsyncCrewClient, RetryPolicy
from crewdash.aop.models import Secret
from crewdash.core.config_model import Config, CrewConfig, TokenSource
from crewdash.core.engine import Engine
from crewdash.core.models import RunChanged
from crewdash.core.store import RunStore
from crewdash.sim import CrewSpec, Scenario, SimApp, TaskSpec, serve_in_background

RUNS = 2000
SPEED = 10.0
TASKS = 3
TASK_SECONDS = 80.0  # simulated; 8 s of real time each at SPEED

pytestmark = pytest.mark.benchmark


def scenario() -> Scenario:
    tasks = tuple(TaskSpec(f"t{i}", "Agent", TASK_SECONDS, "out") for i in range(TASKS))
    return Scenario(name="bench", crews=(CrewSpec("long", tasks=tasks, queue_delay=5.0),))


def truth(run: Any, state: str, task: str | None) -> float | None:
    """When the simulator's run entered this (state, task), in monotonic seconds."""
    d = TASK_SECONDS / SPEED
    if state == "running" and task and task.startswith("t"):
        return run.phase_start + int(task[1:]) * d
    if state == "completed":
        return run.phase_start + TASKS * d
    return None


STAGGER = TASK_SECONDS / SPEED  # kickoffs spread over one task's length, as a batch would


async def kick(app: SimApp, n: int, started: list[Any], on_run: Any = None) -> None:
    """Start `n` runs spread evenly over STAGGER seconds."""
    t0 = time.monotonic()
    for i in range(n):
        wait = t0 + i * STAGGER / n - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        run = app.start_run("long", {})
        started.append(run)
        if on_run is not None:
            on_run(run)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure_engine(tmp_path: Path) -> dict[str, float]:
    app = SimApp(scenario(), speed=SPEED)
    async with serve_in_background(app, "127.0.0.1", 0) as server:
        store = RunStore.open(tmp_path / "bench.sqlite3", synchronous="NORMAL")
        runs: list[Any] = []
        by_kid: dict[str, Any] = {}
        crew = CrewConfig(
            name="long",
            url=server.crew_url("long"),
            token=TokenSource(inline=Secret(server.token("long"))),
            poll_min=1.0,
            poll_max=30.0,
        )
        engine = Engine(Config(path=None, crews={"long": crew}), store)
        delays: list[float] = []
        pending: set[str] = set()
        done = asyncio.Event()

        def on_run(r: Any) -> None:
            by_kid[r.kickoff_id] = r
            pending.add(r.kickoff_id)
            rec = store.create_intent("long", {}, str(uuid.uuid4()), {})
            engine.monitor.track(store.mark_accepted(rec.local_id, r.kickoff_id))

        def on_event(event: Any) -> None:
            if not isinstance(event, RunChanged) or event.run.kickoff_id not in by_kid:
                return
            rec = event.run
            at = truth(by_kid[rec.kickoff_id], str(rec.state), rec.current_task)
            if at is not None:
                delays.append(time.monotonic() - at)
            if rec.state.is_final:
                pending.discard(rec.kickoff_id)
                if not pending and len(runs) == RUNS:
                    done.set()

        engine.subscribe(on_event)
        before = server.stats()["requests_total"]
        cpu0, t0 = time.process_time(), time.monotonic()
        await engine.start()
        kicker = asyncio.create_task(kick(app, RUNS, runs, on_run))
        await asyncio.wait_for(done.wait(), 120)
        await kicker
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        requests = server.stats()["requests_total"] - before
        await engine.stop()
        store.close()
    await app.aclose()
    return {
        "requests": requests,
        "requests_per_s": requests / wall,
        "cpu_s": cpu,
        "wall_s": wall,
        "median_delay_s": statistics.median(delays),
        "p95_delay_s": statistics.quantiles(delays, n=20)[-1],
        "peak_rss_mb": rss_mb(),
        "changes": len(delays),
    }


async def measure_naive() -> dict[str, float]:
    app = SimApp(scenario(), speed=SPEED)
    async with serve_in_background(app, "127.0.0.1", 0) as server:
        runs: list[Any] = []
        kicker = asyncio.create_task(kick(app, RUNS, runs))
        await asyncio.sleep(0)
        client = AsyncCrewClient(
            server.crew_url("long"), server.token("long"), retry=RetryPolicy.none()
        )
        seen: dict[str, tuple[str, str | None]] = {}
        delays: list[float] = []
        before = server.stats()["requests_total"]
        cpu0, t0 = time.process_time(), time.monotonic()
        finished: set[str] = set()
        while len(finished) < RUNS:  # the guide's loop: every run, one after another, then 2 s
            for run in list(runs):
                if run.kickoff_id in finished:
                    continue
                try:
                    status = await client.status(run.kickoff_id)
                except Exception:
                    continue
                key = (str(status.state), status.current_task)
                if seen.get(run.kickoff_id) != key:
                    seen[run.kickoff_id] = key
                    at = truth(run, *key)
                    if at is not None:
                        delays.append(time.monotonic() - at)
                if status.state.is_final:
                    finished.add(run.kickoff_id)
            if len(finished) < RUNS:
                await asyncio.sleep(2.0)
        await kicker
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        requests = server.stats()["requests_total"] - before
        await client.aclose()
    await app.aclose()
    return {
        "requests": requests,
        "requests_per_s": requests / wall,
        "cpu_s": cpu,
        "wall_s": wall,
        "median_delay_s": statistics.median(delays),
        "p95_delay_s": statistics.quantiles(delays, n=20)[-1],
        "peak_rss_mb": rss_mb(),
        "changes": len(delays),
    }


async def test_monitor_against_the_naive_loop(tmp_path: Path) -> None:
    engine = await measure_engine(tmp_path)
    naive = await measure_naive()
    print(f"\n{'':16}{'engine':>12}{'naive loop':>12}")
    for key in engine:
        print(f"{key:16}{engine[key]:12.2f}{naive[key]:12.2f}")
    assert engine["median_delay_s"] <= naive["median_delay_s"]
    assert engine["requests"] < naive["requests"] / 2
    assert engine["peak_rss_mb"] < 150
