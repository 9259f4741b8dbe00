"""CPU per status request of the async client alone, by transport (issue 17's lighter status
path), against `crewdash sim` in its own process: the client's own thread CPU time
(`time.thread_time`) over BENCH_STATUS_CALLS (4,000) status calls, BENCH_STATUS_IN_FLIGHT (4)
at a time, as the monitor sends them on loopback. Transports, interleaved round by round
(BENCH_ROUNDS, 3):

- `h11`: the client's own (`AsyncSchemeTransport`: h11 over wire.py's asyncio connections);
- `httpcore`: what it replaced, httpx's `AsyncHTTPTransport` over httpcore's pool on the
  same asyncio streams (wire.AsyncioBackend).

Run: `uv run pytest -m benchmark tests/benchmarks/test_status_client_bench.py -s`
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import tomllib
from collections.abc import Callable

import httpcore
import httpx
import pytest

from crewdash.aop import AsyncCrewClient, RetryPolicy
from crewdash.aop.transports import AsyncSchemeTransport
from crewdash.aop.wire import AsyncioBackend
from tests.benchmarks.engine_ui_procs import CREW, Sim, load

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(1800, method="signal")]

CALLS = int(os.environ.get("BENCH_STATUS_CALLS", "4000"))
IN_FLIGHT = int(os.environ.get("BENCH_STATUS_IN_FLIGHT", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def _httpcore_pool() -> httpx.AsyncBaseTransport:
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=AsyncioBackend(),
    )
    return transport


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
    "h11": AsyncSchemeTransport,
    "httpcore": _httpcore_pool,
}


async def _ms_per_call(url: str, token: str, transport: httpx.AsyncBaseTransport) -> float:
    async with AsyncCrewClient(url, token, retry=RetryPolicy.none(), transport=transport) as client:
        kickoff_id = await client.kickoff({"n": "1"})
        for _ in range(50):  # warm: connections made, code paths run once
            await client.status(kickoff_id)
        left = CALLS

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await client.status(kickoff_id)

        started = time.thread_time()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return (time.thread_time() - started) / CALLS * 1000


def test_cpu_per_status_request_by_transport(sim: Sim) -> None:
    config = tomllib.loads(sim.config.read_text())
    crew = config["crews"][CREW]
    url, token = crew["url"], crew["token"]
    results: dict[str, list[float]] = {name: [] for name in TRANSPORTS}
    print(f"\n{CALLS} status calls, {IN_FLIGHT} in flight, {ROUNDS} rounds; {load()}")
    for _ in range(ROUNDS):
        for name, make in TRANSPORTS.items():
            results[name].append(asyncio.run(_ms_per_call(url, token, make())))
    for name, values in results.items():
        print(
            f"  {name}: median {statistics.median(values):.3f} ms CPU per status request "
            f"({', '.join(f'{v:.3f}' for v in values)})"
        )
    print(f"  {load()}")
    assert statistics.median(results["h11"]) < statistics.median(results["httpcore"])
