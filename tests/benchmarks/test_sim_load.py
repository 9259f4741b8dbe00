"""Requests per second the simulator answers with 2,000 live runs (run on demand):

    uv run pytest tests/benchmarks/test_sim_load.py -m benchmark -s

Client and server share one event loop and the machine's 2 cores, so the figure is a floor.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from crewdash.sim import SimApp, demo_scenario, serve_in_background

LIVE_RUNS = 2_000
CONCURRENCY = 32
SECONDS = 5.0


@pytest.mark.benchmark
async def test_status_requests_per_second_at_2000_live_runs() -> None:
    app = SimApp(demo_scenario(), seed=1, speed=1.0)  # research runs last ~70 s
    async with serve_in_background(app) as server:
        base, headers = (
            server.crew_url("research"),
            {"Authorization": f"Bearer {server.token('research')}"},
        )
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            sem = asyncio.Semaphore(CONCURRENCY)

            async def kick(i: int) -> str:
                async with sem:
                    body = {"inputs": {"topic": f"t{i}", "audience": "ops"}}
                    r = await http.post(base + "/kickoff", headers=headers, json=body)
                    return r.json()["kickoff_id"]

            ids = await asyncio.gather(*(kick(i) for i in range(LIVE_RUNS)))
            assert server.stats()["runs"]["live"] == LIVE_RUNS
            counts = {"ok": 0, "other": 0}
            deadline = time.perf_counter() + SECONDS

            async def worker(offset: int) -> None:
                i = offset
                while time.perf_counter() < deadline:
                    r = await http.get(f"{base}/status/{ids[i % LIVE_RUNS]}", headers=headers)
                    counts["ok" if r.status_code == 200 else "other"] += 1
                    i += CONCURRENCY

            start = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
            elapsed = time.perf_counter() - start
        loopback_rps = counts["ok"] / elapsed
        live = server.stats()["runs"]["live"]

    inproc_rps = await _in_process_rps(app, ids)
    print(
        f"\nsim load: {LIVE_RUNS} live runs ({live} still live at the end); "
        f"loopback {loopback_rps:,.0f} status req/s (concurrency {CONCURRENCY}); "
        f"in-process ASGITransport {inproc_rps:,.0f} req/s"
    )
    assert counts["other"] == 0
    assert loopback_rps > 100


async def _in_process_rps(app: Any, ids: list[str]) -> float:
    headers = {"Authorization": f"Bearer {app.token('research')}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            await http.get(f"/crews/research/status/{ids[n % len(ids)]}", headers=headers)
            n += 1
        return n / (time.perf_counter() - start)
