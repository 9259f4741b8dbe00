"""Per-crew trends on a big store: 100,000 runs over 7 days for 5 crews.

Measures the v8 migration's backfill of an existing file, the time to open the trends
(`crew_trends` for one crew, `all_crew_trends` for every crew; 24 h and 7 d), and what the
triggers add to the write path of one run (intent, accepted, running, completed).

Run: `uv run pytest tests/benchmarks/test_stats_bench.py -m benchmark -s`
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
from pathlib import Path

import pytest

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.monitor.trends import all_crew_trends, crew_trends
from crewdash.core.store.database import RunStore
from crewdash.core.store.schema import migrate

pytestmark = pytest.mark.benchmark

RUNS = 100_000
CREWS = ("research", "review", "triage", "billing", "support")
DAY = 86400.0
NOW = 1_790_000_000.0
TARGET = 0.200  # seconds to open the trends


def _seed_v7(path: Path) -> None:
    """A store at v7 (before the buckets) holding RUNS runs and some answered requests."""
    rng = random.Random(14)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=7)
    runs, requests, decisions = [], [], []
    for i in range(RUNS):
        created = NOW - rng.uniform(0, 7 * DAY)
        took = rng.lognormvariate(4, 1)
        state = rng.choices(["completed", "error", "stopped", "running"], [90, 6, 2, 2])[0]
        end = created + took if state != "running" else None
        crew = CREWS[i % len(CREWS)]
        runs.append((f"r{i}", crew, f"q{i}", created, end or created, end, state, state))
        if i % 50 == 0:
            requests.append((f"h{i}", crew, created + 5))
            answered = created + 5 + rng.lognormvariate(5, 1)
            decisions.append((f"h{i}", answered, answered))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO runs (local_id, crew, inputs_json, request_id, created_at, updated_at,"
        " finished_at, phase, state, raw_state) VALUES (?, ?, '{}', ?, ?, ?, ?, 'accepted', ?, ?)",
        runs,
    )
    conn.executemany(
        "INSERT INTO human_requests (id, crew, source, received_at) VALUES (?, ?, 'status', ?)",
        requests,
    )
    conn.executemany(
        "INSERT INTO decisions (request_id, user, at, feedback, channel, outcome, answered_at)"
        " VALUES (?, 'u', ?, '', 'resume', 'accepted', ?)",
        decisions,
    )
    conn.execute("COMMIT")
    conn.close()


def _timed(work: object, repeat: int = 9) -> tuple[float, float]:
    """(first, median) seconds of calling `work`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times)


def test_opening_the_trends_of_100k_runs(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite3"
    _seed_v7(path)
    start = time.perf_counter()
    store = RunStore.open(path)
    backfill = time.perf_counter() - start
    print(f"\nv8 migration (backfill of {RUNS} runs): {backfill * 1000:.0f} ms")
    store.close()
    cases = {
        "crew_trends(one crew, 24h)": lambda s: crew_trends(s, "research", NOW - DAY, NOW),
        "crew_trends(one crew, 7d)": lambda s: crew_trends(s, "research", NOW - 7 * DAY, NOW),
        "all_crew_trends(5 crews, 24h)": lambda s: all_crew_trends(s, NOW - DAY, NOW, CREWS),
        "all_crew_trends(5 crews, 7d)": lambda s: all_crew_trends(s, NOW - 7 * DAY, NOW, CREWS),
    }
    for name, case in cases.items():
        with RunStore.open(path) as store:  # a fresh connection: the first call is cold
            first, median = _timed(lambda: case(store))  # noqa: B023
            result = case(store)
        print(f"{name:32s} first {first * 1000:6.1f} ms  median {median * 1000:6.1f} ms")
        assert first < TARGET, f"{name}: {first * 1000:.0f} ms"
        runs = result.total.runs if hasattr(result, "total") else result["research"].total.runs
        assert runs > 0
    with RunStore.open(path) as store:
        week = all_crew_trends(store, NOW - 7 * DAY, NOW, CREWS)
    assert sum(t.total.runs for t in week.values()) >= RUNS * 0.99  # window edges aside


def _write_runs(store: RunStore, n: int, offset: int) -> float:
    """Seconds per run for the whole write path of `n` runs."""
    start = time.perf_counter()
    for i in range(n):
        at = NOW + offset + i
        rec = store.create_intent("research", {}, f"new{offset}-{i}", {}, at=at)
        store.mark_accepted(rec.local_id, f"k{offset}-{i}", at=at)
        store.record_status(rec.local_id, RunStatus(RunState.RUNNING, "running"), at=at + 1)
        done = RunStatus(RunState.COMPLETED, "completed", execution_time=30.0)
        store.record_status(rec.local_id, done, at=at + 31)
    return (time.perf_counter() - start) / n


@pytest.mark.parametrize("sync", ["OFF", "FULL"])
def test_write_path_cost_of_the_buckets(tmp_path: Path, sync: str) -> None:
    path = tmp_path / "big.sqlite3"
    _seed_v7(path)
    n = 300
    with RunStore.open(path, synchronous=sync) as store:  # type: ignore[arg-type]
        with_buckets = _write_runs(store, n, 0)
        conn = store._db()
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            if name.startswith("crew_hours_"):
                conn.execute(f"DROP TRIGGER {name}")
        without = _write_runs(store, n, 10_000)
    print(
        f"\nwrite path of one run (4 commits) synchronous={sync}: with buckets "
        f"{with_buckets * 1000:.3f} ms, without {without * 1000:.3f} ms"
    )
    assert with_buckets > 0 and without > 0
