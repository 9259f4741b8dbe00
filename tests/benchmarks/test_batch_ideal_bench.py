"""`crewdash batch` (a real process) of 200 rows against the simulator, measured against the
ideal (issue 17). Two cases, each with 100 ms of latency and `--concurrency 10`:

- latency only: ideal = rows x latency / concurrency (2.0 s);
- a limit of 20 requests/s: ideal = requests let through / 20 (about 10 s), once with the
  rate still to learn (a fresh data dir) and once more with the rate learnt by that run.

Run on demand:

    uv run pytest -m benchmark tests/benchmarks/test_batch_ideal_bench.py -s

The latency case also runs a bare reference in the same test, interleaved: a minimal script
that only posts the 200 kickoffs with `httpx.AsyncClient` (10 at a time, no store, no input
check), so what is left between crewdash and the ideal is split into what any Python client
pays against this simulator and what crewdash adds.

Reports process wall, time from the process start to the first kickoff request reaching the
server, the kickoff span (first request to last answer), effective concurrency (latency x
kickoffs per second over the span), 429 answers (all, and those after the first second of
kickoffs: with the rate to learn, the round on the wire when the window filled is refused
before any answer can say so), and % of the ideal (process wall and span).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crewdash.commands.sim import config_text, write_config
from crewdash.sim import SimApp, load_scenario, serve_in_background
from tests.benchmarks.tui_pty import bench_env

ROWS = 200
LATENCY = 0.1
CONCURRENCY = 10
LIMIT = 20


# The bare reference: the kickoffs alone, as a short script would send them.
_BARE = """
import asyncio, sys, httpx
url, token, rows, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
async def main():
    headers = {"Authorization": "Bearer " + token}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        slots = asyncio.Semaphore(concurrency)
        async def one(n):
            async with slots:
                answer = await client.post(url + "/kickoff", json={"inputs": {"topic": f"t{n}"}})
                answer.raise_for_status()
        await asyncio.gather(*(one(n) for n in range(rows)))
asyncio.run(main())
"""


class _TimedKickoffs(list[dict[str, Any]]):
    """The simulator's list of accepted kickoffs, stamped when each was taken (the sim is
    served in this process, so its stamps share our clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, item: dict[str, Any]) -> None:
        self.at.append(time.perf_counter())
        super().append(item)


@pytest.fixture(scope="module", autouse=True)
def _bytecode_cached(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One batch first, not measured: each measured one then starts with its bytecode cached,
    as an installed crewdash does from its second run (see `bench_env`: this box sets
    PYTHONDONTWRITEBYTECODE, so every launch compiled every module, ~0.25 s of 0.6)."""
    asyncio.run(_run(tmp_path_factory.mktemp("warm"), {}, rows=1))


async def _run(
    tmp_path: Path,
    faults: dict[str, Any],
    name: str = "rows",
    rows: int = ROWS,
    *,
    bare: bool = False,
) -> dict[str, Any]:
    """One batch of `rows` (or, with `bare`, the bare reference script) against a simulator
    with `faults`; what the server saw of it."""
    app = SimApp(load_scenario("testing"), seed=5, speed=10.0)
    app.configure("basic", faults=faults)
    timed = _TimedKickoffs()
    app.stats.kickoffs = timed
    refused: list[float] = []  # when each 429 was decided (the sim shares our clock)
    count_fault = app.stats.fault

    def stamped(crew: str, kind: str) -> None:
        if kind == "rate_limited":
            refused.append(time.perf_counter())
        count_fault(crew, kind)

    app.stats.fault = stamped  # type: ignore[method-assign]  # a stamping spy
    rows_file = tmp_path / f"{name}.jsonl"
    rows_file.write_text("".join(json.dumps({"topic": f"{name}{n}"}) + "\n" for n in range(rows)))
    async with serve_in_background(app, "127.0.0.1", 0) as server:
        config = tmp_path / "config.toml"
        write_config(
            str(config),
            config_text([("basic", server.crew_url("basic"), server.token("basic"), "crew")]),
        )
        env = {
            **bench_env(),
            "CREWDASH_CONFIG": str(config),
            "CREWDASH_DATA_DIR": str(tmp_path / "d"),
        }
        url, token, slots = server.crew_url("basic"), server.token("basic"), str(CONCURRENCY)
        argv = (
            ["-c", _BARE, url, token, str(rows), slots]
            if bare
            else ["-m", "crewdash", "batch", "basic", str(rows_file), "--concurrency", slots]
        )
        argv += [] if bare else ["--json"]
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *argv,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        out, err = await proc.communicate()
        wall = time.perf_counter() - started
        stats = server.stats()
    assert proc.returncode == 0, err.decode()[-2000:]
    codes: dict[str, int] = {}
    for route, by_code in stats["requests"]["basic"].items():
        for code, n in by_code.items():
            key = f"{route} {code}"
            codes[key] = codes.get(key, 0) + n
    kickoff_codes = {k: n for k, n in codes.items() if "kickoff" in k}
    first_sent = timed.at[0] - LATENCY - started
    span = timed.at[-1] - (timed.at[0] - LATENCY)
    return {
        "wall": wall,
        "first": first_sent,
        "span": span,
        "concurrency": len(timed) * LATENCY / span,
        "429": sum(n for k, n in kickoff_codes.items() if k.endswith(" 429")),
        # after the first second of kickoffs: the rate learnt, no round still on the wire
        # (any of the crew's requests is stamped: the batch's one GET /inputs comes first)
        "429_later": sum(at > timed.at[0] - LATENCY + 1.0 for at in refused),
        "kickoff_requests": sum(kickoff_codes.values()),
        "through": sum(n for k, n in codes.items() if not k.endswith((" 429", " 0"))),
        "accepted": len(timed),
        "out": out,
    }


def _report(name: str, result: dict[str, Any], ideal: float) -> None:
    share = result["429"] / result["kickoff_requests"]
    print(
        f"\n{name} (load average {os.getloadavg()[0]:.2f}): {result['accepted']} accepted; "
        f"process wall {result['wall']:.2f} s, first kickoff sent at {result['first']:.2f} s, "
        f"kickoff span {result['span']:.2f} s, effective concurrency "
        f"{result['concurrency']:.1f}; 429s {result['429']}/{result['kickoff_requests']} "
        f"({share:.1%}; {result['429_later']} after the first second); ideal {ideal:.2f} s: "
        f"{ideal / result['wall']:.0%} of the ideal by process wall, "
        f"{ideal / result['span']:.0%} by kickoff span"
    )


@pytest.mark.benchmark
@pytest.mark.timeout(300)
async def test_batch_at_latency(tmp_path: Path) -> None:
    ideal = ROWS * LATENCY / CONCURRENCY
    for round_ in range(2):  # interleaved with the bare reference, same window
        bare = await _run(tmp_path, {"latency": LATENCY}, f"bare{round_}", bare=True)
        _report(f"bare httpx script, {ROWS} kickoffs, {CONCURRENCY} at a time", bare, ideal)
        result = await _run(tmp_path, {"latency": LATENCY}, f"rows{round_}")
        _report(
            f"{ROWS} rows, {LATENCY * 1000:.0f} ms latency, --concurrency {CONCURRENCY}",
            result,
            ideal,
        )
        print(
            f"  crewdash / bare: process wall {result['wall'] / bare['wall']:.2f}x, "
            f"kickoff span {result['span'] / bare['span']:.2f}x"
        )
        assert result["accepted"] == ROWS
        assert bare["accepted"] == ROWS


@pytest.mark.benchmark
@pytest.mark.timeout(300)
async def test_batch_under_a_rate_limit(tmp_path: Path) -> None:
    faults = {"latency": LATENCY, "rate_limit": LIMIT, "rate_window": 1.0}
    result = await _run(tmp_path, faults)
    ideal = result["through"] / LIMIT
    _report(f"{ROWS} rows, {LIMIT} req/s limit, --concurrency {CONCURRENCY}", result, ideal)
    assert result["accepted"] == ROWS


@pytest.mark.benchmark
@pytest.mark.timeout(300)
async def test_batch_under_a_learnt_rate_limit(tmp_path: Path) -> None:
    faults = {"latency": LATENCY, "rate_limit": LIMIT, "rate_window": 1.0}
    await _run(tmp_path, faults, "first")  # learns the rate, keeps it in the data dir
    result = await _run(tmp_path, faults, "second")
    ideal = result["through"] / LIMIT
    _report(f"{ROWS} rows, {LIMIT} req/s limit, rate learnt by an earlier batch", result, ideal)
    assert result["accepted"] == ROWS
