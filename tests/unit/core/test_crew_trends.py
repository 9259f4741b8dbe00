"""Per-crew trends (issue 14): the hourly buckets kept by the v8 triggers equal a recompute
from the rows whoever writes (this connection, another one, another process), the migration
fills them from an existing file, and the series and percentiles read from them are right
within the stated precision. Real SQLite files throughout."""

from __future__ import annotations

import math
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource
from crewdash.core.monitor.stats import percentile
from crewdash.core.monitor.trends import (
    MAX_POINTS,
    all_crew_trends,
    bucket_for,
    crew_trends,
    histogram_percentile,
)
from crewdash.core.monitor.trends_text import bucket_words
from crewdash.core.store.database import RunStore
from crewdash.core.store.hour_bins import (
    ABSOLUTE_ERROR,
    BOUNDS,
    LAST,
    RELATIVE_ERROR,
    bin_of,
    bin_sql,
)
from crewdash.core.store.schema import migrate

H = 3600
T0 = 1_790_000_000.0 - 1_790_000_000.0 % H  # an hour boundary
FINAL = ("completed", "error", "stopped")


def _hour(x: float) -> int:
    return int(x // H) * H


def oracle(conn: sqlite3.Connection) -> tuple[dict[tuple[int, str], tuple[int, ...]], Counter]:
    """The buckets recomputed in Python from the rows (independent of the SQL triggers)."""
    counts: dict[tuple[int, str], list[int]] = {}
    bins: Counter[tuple[int, str, str, int]] = Counter()
    rows = conn.execute(
        "SELECT crew, phase, state, created_at, updated_at, finished_at FROM runs"
    ).fetchall()
    for crew, phase, state, created, updated, finished in rows:
        if phase != "accepted":
            continue
        counts.setdefault((_hour(created), crew), [0] * 5)[0] += 1
        if state in FINAL:
            end = finished if finished is not None else updated
            c = counts.setdefault((_hour(end), crew), [0] * 5)
            c[1] += 1
            c[2 + FINAL.index(state)] += 1
            if state == "completed" and finished is not None:
                bins[_hour(finished), crew, "run", bin_of(finished - created)] += 1
    for crew, received, answered in conn.execute(
        "SELECT r.crew, r.received_at, d.answered_at FROM decisions d JOIN human_requests r"
        " ON r.id = d.request_id WHERE d.outcome = 'accepted' AND d.answered_at IS NOT NULL"
    ):
        bins[_hour(answered), crew, "wait", bin_of(answered - received)] += 1
    return {k: tuple(v) for k, v in counts.items()}, bins


def stored(conn: sqlite3.Connection) -> tuple[dict[tuple[int, str], tuple[int, ...]], Counter]:
    counts = {
        (h, c): tuple(rest)
        for h, c, *rest in conn.execute(
            "SELECT hour, crew, started, finished, completed, failed, stopped FROM crew_hours"
        )
    }
    bins = Counter(
        {(h, c, m, b): n for h, c, m, b, n in conn.execute("SELECT * FROM crew_hour_bins")}
    )
    return counts, bins


def _status(state: RunState, took: float | None = None) -> RunStatus:
    return RunStatus(state=state, raw_state=str(state), execution_time=took)


def _run(store: RunStore, crew: str, at: float, state: RunState | None, took: float) -> str:
    rec = store.create_intent(crew, {}, f"rq-{crew}-{at}-{took}", {}, at=at)
    store.mark_accepted(rec.local_id, f"k-{rec.local_id}", at=at)
    if state is not None:
        store.record_status(rec.local_id, _status(state, took), at=at + took + 1)
    return rec.local_id


def _answered(store: RunStore, crew: str, received: float, wait: float, rid: str) -> None:
    req = HumanRequest(
        id=rid, crew=crew, source=RequestSource.STATUS, received_at=received, kickoff_id=rid,
        task_id="t", output="draft",
    )  # fmt: skip
    store.place_request(rid, None, lambda known: req)
    decision, _ = store.claim_answer(
        Decision(rid, "ok", True, None, "ana", at=received + wait / 2), "resume", str
    )
    store.record_outcome(decision, AnswerOutcome.ACCEPTED, "ok", at=received + wait)


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore.open(tmp_path / "runs.sqlite3")
    yield s
    s.close()


def test_sql_bins_are_the_python_bins() -> None:
    conn = sqlite3.connect(":memory:")
    values = [-1.0, 0.0, 0.1, 0.25, 1.0, 59.9, 3600.0, 1e9, *BOUNDS, *(b * 0.999 for b in BOUNDS)]
    for v in values:
        (got,) = conn.execute(f"SELECT {bin_sql(':v')}", {"v": v}).fetchone()
        assert got == bin_of(v), v
    assert bin_of(0.2) == 0 and bin_of(1e9) == LAST


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_from_bins_are_within_the_stated_precision(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.lognormvariate(rng.uniform(-1, 8), rng.uniform(0.2, 2)) for _ in range(500)]
    counts = Counter(bin_of(v) for v in values)
    for fraction in (0.5, 0.95, 0.01, 1.0):
        exact = percentile(values, fraction)
        approx = histogram_percentile(counts, fraction)
        assert exact is not None and approx is not None
        bound = max(RELATIVE_ERROR * exact, ABSOLUTE_ERROR) + 1e-9
        assert abs(approx - exact) <= bound, (fraction, exact, approx)
    assert histogram_percentile({}, 0.5) is None


def test_buckets_are_hours_then_wider_for_long_windows() -> None:
    assert bucket_for(24 * H) == H
    assert bucket_for(48 * H) == H
    assert bucket_for(7 * 24 * H) == 6 * H  # 28 points
    assert bucket_for(30 * 24 * H) == 24 * H
    assert bucket_for(90 * 24 * H) == 48 * H  # 45 points
    assert bucket_for(3650 * 24 * H) == 168 * H  # the widest, however many points
    assert [bucket_words(h * H) for h in (1, 6, 24, 48, 168)] == [
        "hour", "6 hours", "day", "2 days", "7 days",
    ]  # fmt: skip
    assert 7 * 24 * H / bucket_for(7 * 24 * H) <= MAX_POINTS


def test_series_counts_runs_per_hour_success_and_durations(store: RunStore) -> None:
    now = T0 + 23 * H + 600  # ten minutes into the 24th hour
    for i in range(3):  # hour 2: three runs, one of them failed
        _run(store, "a", T0 + 2 * H + i * 60, RunState.ERROR if i == 0 else RunState.COMPLETED, 30)
    _run(store, "a", T0 + 5 * H, RunState.STOPPED, 10)
    _run(store, "a", T0 + 23 * H, None, 0)  # still running
    _run(store, "b", T0 + 5 * H, RunState.COMPLETED, 100)
    _answered(store, "a", T0 + 7 * H, 120.0, "r1")
    trends = crew_trends(store, "a", now - 24 * H, now)
    # rounded out to whole hours: the hour holding `since` (T0 - 1 h) up to the current one
    assert trends.bucket == H and len(trends.points) == 25
    assert trends.points[0].start == T0 - H and trends.points[-1].start == T0 + 23 * H
    points = trends.points[1:]  # points[i] is hour T0 + i h
    runs = [p.runs for p in points]
    assert runs[2] == 3 and runs[5] == 1 and runs[23] == 1 and sum(runs) == 5
    hour2 = points[2]
    assert (hour2.completed, hour2.failed, hour2.success_rate) == (2, 1, pytest.approx(2 / 3))
    assert hour2.duration_p50 == pytest.approx(30, rel=RELATIVE_ERROR)
    assert points[5].stopped == 1 and points[5].success_rate is None
    assert points[7].answered == 1
    assert points[7].wait_p50 == pytest.approx(120, rel=RELATIVE_ERROR)
    assert trends.total.runs == 5 and trends.total.finished == 4
    assert trends.total.success_rate == pytest.approx(2 / 3)
    both = all_crew_trends(store, now - 24 * H, now, ["c"])
    assert list(both) == ["c", "a", "b"] and both["c"].total.runs == 0
    assert both["b"].total.duration_p95 == pytest.approx(100, rel=RELATIVE_ERROR)
    week = crew_trends(store, "a", now - 7 * 24 * H, now)
    assert week.bucket == 6 * H and len(week.points) in (28, 29) and week.total.runs == 5


def test_incremental_equals_recompute_whoever_writes(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    one, two = RunStore.open(db), RunStore.open(db)
    rng = random.Random(7)
    ids = []
    for i in range(60):
        writer = one if i % 2 else two  # the other connection writes half of it
        state = rng.choice([RunState.COMPLETED, RunState.ERROR, RunState.STOPPED, None])
        ids.append(_run(writer, rng.choice("xyz"), T0 + rng.uniform(0, 30 * H), state, 40.0))
    for i in range(8):
        _answered(two if i % 2 else one, "x", T0 + i * H, 30.0 * (i + 1), f"req{i}")
    # a run that ended unseen (end unknown), then later changes of mind and a deleted run
    lost = _run(one, "y", T0 + 3 * H, None, 0)
    two.record_status(lost, _status(RunState.COMPLETED), at=T0 + 9 * H)
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("UPDATE runs SET state = 'error' WHERE local_id = ?", (ids[0],))
    raw.execute("UPDATE runs SET finished_at = finished_at + 7200 WHERE local_id = ?", (ids[1],))
    raw.execute("UPDATE runs SET crew = 'moved' WHERE local_id = ?", (ids[2],))
    raw.execute("DELETE FROM state_changes WHERE local_id = ?", (ids[3],))
    raw.execute("DELETE FROM runs WHERE local_id = ?", (ids[3],))
    raw.execute("UPDATE decisions SET answered_at = answered_at + 5000 WHERE request_id = 'req1'")
    raw.execute("UPDATE human_requests SET received_at = received_at - 900 WHERE id = 'req2'")
    raw.execute("UPDATE human_requests SET crew = 'z' WHERE id = 'req3'")
    raw.execute("DELETE FROM decisions WHERE request_id = 'req4'")
    raw.execute("DELETE FROM human_requests WHERE id = 'req5'")  # its decision stays, alone
    assert stored(raw) == oracle(raw)
    assert oracle(raw)[0] and oracle(raw)[1]  # not trivially equal
    one.close()
    two.close()


def test_another_process_writing_is_counted(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    with RunStore.open(db) as store:
        _run(store, "x", T0, RunState.COMPLETED, 5)
    child = (
        "import sys\n"
        "from crewdash.aop.models import RunState, RunStatus\n"
        "from crewdash.core.store.database import RunStore\n"
        "with RunStore.open(sys.argv[1]) as s:\n"
        f"    r = s.create_intent('x', {{}}, 'child', {{}}, at={T0 + 60})\n"
        f"    s.mark_accepted(r.local_id, 'kc', at={T0 + 60})\n"
        "    s.record_status(r.local_id, RunStatus(state=RunState.ERROR, raw_state='error',"
        f" execution_time=3), at={T0 + 70})\n"
    )
    subprocess.run([sys.executable, "-c", child, str(db)], check=True, timeout=60)
    with RunStore.open(db) as store:
        trends = crew_trends(store, "x", T0, T0 + 600)
        assert (trends.total.runs, trends.total.completed, trends.total.failed) == (2, 1, 1)
        assert stored(store._db()) == oracle(store._db())


def test_migration_fills_the_buckets_from_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, upto=7) == 7
    rows = [
        ("a", "accepted", "completed", T0, T0 + 90, T0 + 90),
        ("a", "accepted", "completed", T0 + 10, T0 + 4000, None),  # end unknown
        ("a", "accepted", "error", T0 + H, T0 + H + 5, T0 + H + 5),
        ("a", "refused", "error", T0, T0, T0),  # no run: not counted
        ("b", "accepted", "running", T0 + 2 * H, T0 + 2 * H, None),
        ("b", "intent", "pending", T0 + 2 * H, T0 + 2 * H, None),
    ]
    for i, (crew, phase, state, created, updated, finished) in enumerate(rows):
        conn.execute(
            "INSERT INTO runs (local_id, crew, inputs_json, request_id, created_at, updated_at,"
            " finished_at, phase, state, raw_state) VALUES (?, ?, '{}', ?, ?, ?, ?, ?, ?, ?)",
            (f"r{i}", crew, f"q{i}", created, updated, finished, phase, state, state),
        )
    conn.execute(
        "INSERT INTO human_requests (id, crew, source, received_at) VALUES"
        " ('h1', 'a', 'status', ?), ('h2', 'a', 'status', ?)",
        (T0, T0),
    )
    conn.execute(
        "INSERT INTO decisions (request_id, user, at, feedback, channel, outcome, answered_at)"
        " VALUES ('h1', 'u', ?, '', 'resume', 'accepted', ?),"
        " ('h2', 'u', ?, '', 'resume', 'failed', ?)",
        (T0 + 50, T0 + 50, T0 + 60, T0 + 60),
    )
    conn.close()
    with RunStore.open(path) as store:
        conn = store._db()
        assert stored(conn) == oracle(conn)
        counts, bins = stored(conn)
        assert counts[int(T0), "a"] == (2, 1, 1, 0, 0)
        # the run whose end is unknown counts as ended when last updated (hour 1)
        assert counts[int(T0 + H), "a"] == (1, 2, 1, 1, 0)
        assert counts[int(T0 + 2 * H), "b"] == (1, 0, 0, 0, 0)
        assert sum(n for k, n in bins.items() if k[2] == "wait") == 1
        # and the triggers keep them from then on
        _run(store, "b", T0 + 2 * H + 5, RunState.COMPLETED, 20)
        assert stored(conn) == oracle(conn)
        assert math.isclose(
            crew_trends(store, "b", T0, T0 + 3 * H - 1).total.duration_p50 or 0, 20, rel_tol=0.1
        )
