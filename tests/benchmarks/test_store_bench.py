"""Store write throughput on a real file: what durability costs per write.

Run: `uv run pytest tests/benchmarks/test_store_bench.py -m benchmark -s`
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crewdash.aop.models import Progress, RunState, RunStatus
from crewdash.core.store.database import RunStore

pytestmark = pytest.mark.benchmark

N = 400


def _rate(n: int, seconds: float, unit: str = "write") -> str:
    return f"{n / seconds:8.0f} {unit}s/s  {seconds / n * 1000:6.3f} ms/{unit}"


@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_record_status_writes_per_second(tmp_path: Path, sync: str) -> None:
    with RunStore.open(tmp_path / "b.sqlite3", synchronous=sync) as store:  # type: ignore[arg-type]
        run = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
        start = time.perf_counter()
        for i in range(N):  # every call is a change: progress moves on
            status = RunStatus(RunState.RUNNING, "running", "t", Progress(i, N))
            _, changed = store.record_status(run.local_id, status, at=float(i))
            assert changed
        elapsed = time.perf_counter() - start
        # An unchanged observation does not write at all.
        start_same = time.perf_counter()
        for _ in range(N):
            assert not store.record_status(run.local_id, status, at=0.0)[1]
        same = time.perf_counter() - start_same
    print(f"\nrecord_status synchronous={sync}: {_rate(N, elapsed)}")
    print(f"record_status unchanged (no write): {_rate(N, same, 'call')}")
    with RunStore.open(tmp_path / "b.sqlite3") as reopened:
        assert len(reopened.history(run.local_id)) == N


@pytest.mark.parametrize("sync", ["FULL", "NORMAL"])
def test_intent_and_accept_per_second(tmp_path: Path, sync: str) -> None:
    with RunStore.open(tmp_path / "b.sqlite3", synchronous=sync) as store:  # type: ignore[arg-type]
        start = time.perf_counter()
        for i in range(N):
            rec = store.create_intent("c", {"i": i}, f"rq{i}", {"crew_url": "http://h/c"})
            store.mark_accepted(rec.local_id, f"k{i}")
        elapsed = time.perf_counter() - start
        assert len(store.list_runs()) == N
    print(
        f"\ncreate_intent+mark_accepted synchronous={sync}: "
        f"{_rate(N, elapsed, 'kickoff')} (2 commits)"
    )
