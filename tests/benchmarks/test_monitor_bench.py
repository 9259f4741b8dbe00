"""The engine's monitor side by side with the reference guide's loop (fixed 2-second polling,
one run after another), each client in its own fresh process against its own simulator child
(`monitor_bench_procs.py`), so CPU seconds and peak RSS are the client's alone.

Run: `uv run pytest tests/benchmarks/test_monitor_bench.py -m benchmark -s`
(`BENCH_CASES=detection` or `=long,together` runs those cases; `BENCH_REPEAT=2` measures
each twice.)

Five cases:
- `detection`: 2,000 runs of 3 x 8 s tasks, kickoffs spread over 8 s; poll_min 1 s,
  poll_max 30 s; the loop sleeps 2 s between passes.
- `long`: 100 runs of 3 x 4-minute tasks, compressed 10x by the simulator's speed factor; the
  engine's intervals and the loop's sleep are compressed by the same factor (0.1-3 s, 0.2 s),
  so the ratio of task length to poll interval is that of the real thing; so is the latency of
  a status call (150 ms against a hosted deployment, 15 ms here: loopback's ~1 ms would make
  the one-after-another loop unrealistically fast). Delays are reported in uncompressed
  seconds. With that latency the loop cannot keep its 2 s: a pass over 100 runs takes 15 s,
  so it polls each run every ~17 s, while the engine promises never to leave a run unpolled
  longer than poll_max (30 s). Half the loop's requests would take ~15% fewer polls than that
  promise allows (each run lives 72 s compressed: at least 24 polls at 3 s). So the case
  holds the engine to fewer requests than the loop and to within 20% of its poll_max floor,
  and a far faster detection (the p50 is held to the loop's like everywhere).
- `long-loopback`: the same on loopback without added latency, where the loop keeps its
  2-second cadence: there the engine must send under half the loop's requests.
- `together` and `together-history`: issue 17's goals. 50 runs of `long-loopback` kicked off
  within half a second, so no run is ahead of the others to learn from: in a fresh store the
  engine's median delay must stay within 2 s at no more than 60% of the loop's requests; with
  5 earlier runs of the crew in the store (their phase lengths known from the first poll),
  median within 1 s and p95 within 3 s at no more than 40%.
Reported per side: requests, requests/s, client CPU seconds (and per request), wall seconds,
median and p95 detection delay (event time minus the simulator's exact change time), peak RSS
of the client process, the number of changes seen and of phases never seen at all (a run that
went through a task between two polls).
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from monitor_bench_procs import Case, run_client, warm_up

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]

CASES = {
    "detection": Case(
        name="detection",
        runs=2000,
        tasks=3,
        task_seconds=80.0,
        speed=10.0,
        stagger=8.0,
        poll_min=1.0,
        poll_max=30.0,
        naive_interval=2.0,
        timeout=150.0,
    ),
    "long": Case(
        name="long",
        runs=100,
        tasks=3,
        task_seconds=240.0,
        speed=10.0,
        stagger=24.0,
        poll_min=0.1,
        poll_max=3.0,
        naive_interval=0.2,
        timeout=300.0,
        time_scale=10.0,
        latency=0.015,
    ),
}
CASES["long-loopback"] = dataclasses.replace(CASES["long"], name="long-loopback", latency=0.0)
# Issue 17's goals, on runs over 10 minutes started together (50 within half a second):
# a fresh store (nothing to learn from but the batch itself) and one holding 5 earlier runs.
CASES["together"] = dataclasses.replace(
    CASES["long-loopback"], name="together", runs=50, stagger=0.5
)
CASES["together-history"] = dataclasses.replace(
    CASES["together"], name="together-history", history=5
)
GOALS = {  # case: (most requests as a fraction of the loop's, median and p95 delay, seconds)
    "together": (0.6, 2.0, None),
    "together-history": (0.4, 1.0, 3.0),
}


def _report(case: Case, engine: dict[str, float], naive: dict[str, float]) -> None:
    print(f"\n[{case.name}] {case.runs} runs x {case.tasks} tasks of {case.task_seconds:g} s")
    print(f"{'':20}{'engine':>12}{'naive loop':>12}")
    for key in engine:
        print(f"{key:20}{engine[key]:12.2f}{naive[key]:12.2f}")


@pytest.mark.parametrize(
    "name", [n for n in CASES if n in os.environ.get("BENCH_CASES", ",".join(CASES)).split(",")]
)
def test_monitor_against_the_naive_loop(name: str) -> None:
    case = CASES[name]
    warm_up(case)
    results = []
    for _ in range(int(os.environ.get("BENCH_REPEAT", "1"))):
        engine = run_client("engine", case)
        naive = run_client("naive", case)
        _report(case, engine, naive)
        results.append((engine, naive))
    for engine, naive in results:  # every repeat is reported before any assertion fails
        assert engine["missed"] <= naive["missed"]
        assert engine["median_delay_s"] <= naive["median_delay_s"]
        assert engine["peak_rss_mb"] < 150
        assert engine["requests"] < naive["requests"]
        if name == "long":
            assert engine["requests"] <= 1.2 * _poll_max_floor(case)
        elif name == "long-loopback":
            assert engine["requests"] < naive["requests"] / 2
        if name in GOALS:
            share, median, p95 = GOALS[name]
            assert engine["requests"] <= share * naive["requests"]
            assert engine["median_delay_s"] <= median
            assert p95 is None or engine["p95_delay_s"] <= p95


def _poll_max_floor(case: Case) -> float:
    """The fewest requests that keep every run polled at least every poll_max."""
    return case.runs * (case.tasks * case.task_real) / case.poll_max
