"""One live truth (issue 14): an engine publishes what other connections and processes write
to its run store within one check period, reads nothing while nothing changed, and polls a
run only when no other live process does (taking it over when that process dies).

Real SQLite files; the process tests run real child processes (tests/integration/live_child.py)
against the simulator on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.models import RunState
from crewdash.core.config.model import Config
from crewdash.core.engine import Engine
from crewdash.core.live import PERIOD
from crewdash.core.models import (
    AnswerOutcome,
    Event,
    HumanRequest,
    InboxChanged,
    RequestSource,
    RunChanged,
)
from crewdash.core.store.database import RunStore
from tests.sim_config import sim_config

CHILD = Path(__file__).parents[1] / "live_child.py"


def _events(engine: Engine) -> list[tuple[float, Event]]:
    seen: list[tuple[float, Event]] = []
    engine.subscribe(lambda e: seen.append((time.monotonic(), e)))
    return seen


async def _until(condition: Callable[[], Any], limit: float, what: str) -> Any:
    deadline = time.monotonic() + limit
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit} s waiting for {what}")
        await asyncio.sleep(0.01)
    return result


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine = Engine(Config(path=None, crews={}), store)
    await engine.start()
    yield engine
    await engine.stop()
    store.close()


async def test_another_connections_run_is_published_within_a_period(
    engine: Engine, tmp_path: Path
) -> None:
    seen = _events(engine)
    other = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        started = time.monotonic()
        record = other.create_intent("basic", {"topic": "x"}, "req-1", {})
        arrived = await _until(
            lambda: [t for t, e in seen if isinstance(e, RunChanged)], 2.0, "the RunChanged"
        )
        took = arrived[0] - started
        print(f"another connection's new run published after {took * 1000:.0f} ms")
        assert took < 1.0  # one look (PERIOD) is the aim; the bound leaves room for load
        events = [e for _, e in seen if isinstance(e, RunChanged)]
        assert [e.run for e in events] == [record] and events[0].previous is None
        # `previous` is the row this engine last published
        updated = other.set_flags(record.local_id, note="looked at elsewhere")
        await _until(lambda: len([e for _, e in seen]) == 2, 2.0, "the second RunChanged")
        second = seen[1][1]
        assert isinstance(second, RunChanged)
        assert second.run == updated and second.previous == record
    finally:
        other.close()


async def test_another_connections_request_and_answer_are_published(
    engine: Engine, tmp_path: Path
) -> None:
    """A human-input request another process saw, then its closing: two InboxChanged, the
    second answered (the dashboard's inbox count follows them)."""
    seen = _events(engine)
    other = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        asked = HumanRequest("k1:t1", "basic", RequestSource.STATUS, 1.0, kickoff_id="k1")
        other.upsert_request(asked)
        await _until(lambda: seen, 2.0, "the request")
        first = seen[0][1]
        assert isinstance(first, InboxChanged) and first.request.answered is None
        assert [r.id for r in engine.inbox()] == ["k1:t1"]
        other.close_request(
            "k1:t1", AnswerOutcome.ANSWERED_ELSEWHERE, "done", user="u", channel="observed", at=2.0
        )
        await _until(lambda: len(seen) >= 2, 2.0, "the answer")
        last = seen[-1][1]
        assert isinstance(last, InboxChanged) and last.request.answered is not None
        assert engine.inbox() == []
    finally:
        other.close()


async def test_nothing_read_or_published_while_nothing_changed(
    engine: Engine, tmp_path: Path
) -> None:
    seen = _events(engine)
    statements: list[str] = []
    engine.store._db().set_trace_callback(statements.append)
    # this process's own writes do not move data_version: still nothing read
    engine.store.set_meta("k", "v")
    await asyncio.sleep(6 * PERIOD)
    engine.store._db().set_trace_callback(None)
    reads = [s for s in statements if "data_version" not in s]
    looks = len(statements) - len(reads)
    print(f"idle: {looks} looks, {len(reads)} other statements ({reads[:4]})")
    assert looks >= 4
    # nothing but this process's own write: no read of the change log or of a row
    assert [s.split()[0] for s in reads] == ["BEGIN", "INSERT", "COMMIT"], reads
    assert seen == []


async def test_a_write_from_another_process_is_published(engine: Engine, tmp_path: Path) -> None:
    seen = _events(engine)
    code = (
        "import sys; from crewdash.core.store.database import RunStore;"
        "s = RunStore.open(sys.argv[1]); s.create_intent('basic', {}, 'req-p', {}); s.close()"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(tmp_path / "runs.sqlite3")
    )
    assert await child.wait() == 0
    done = time.monotonic()
    await _until(lambda: seen, 2.0, "the child's run")
    print(f"another process's run published {(seen[0][0] - done) * 1000:.0f} ms after it exited")
    event = seen[0][1]
    assert isinstance(event, RunChanged) and event.run.request_id == "req-p"


# --- processes sharing the polling ----------------------------------------------------------


async def _child(sim: Any, db: Path, mode: str, text: str = "") -> tuple[Any, list[str]]:
    """A child engine (live_child.py) on `db`; it and the words of its first line."""
    env = {**os.environ, "CREWDASH_CHILD_TOKEN": sim.token("basic")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(db),
        sim.crew_url("basic"),
        "basic",
        mode,
        text,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(Path(__file__).parents[3]),
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    return proc, line.decode().split()


def _kill(proc: Any) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)


async def _status_requests(sim_stats: Any, server: Any) -> int:
    routes = (await sim_stats(server)).get("requests", {}).get("basic", {})
    return sum(sum(codes.values()) for route, codes in routes.items() if "status" in route)


async def test_a_run_another_process_polls_is_followed_then_taken_over_when_it_dies(
    tmp_path: Path, sim_app_factory: Any, sim_serve: Any, sim_stats: Any
) -> None:
    """The child kicks off and polls; this engine follows (no request of its own) and shows
    the child's changes; kill -9 the child: this engine polls the run to its end."""
    db = tmp_path / "runs.sqlite3"
    async with sim_serve(sim_app_factory("testing", speed=0.5)) as server:
        store = RunStore.open(db)
        engine = Engine(sim_config(server, ["basic"]), store)
        seen = _events(engine)
        await engine.start()
        child, words = await _child(server, db, "kickoff", "followed")
        try:
            assert words[0] == "tracking", words
            local_id, child_owner = words[1], words[2]
            await _until(lambda: local_id in engine.monitor.followed, 3.0, "following")
            assert store.watcher(local_id) == child_owner
            await _until(
                lambda: any(
                    isinstance(e, RunChanged)
                    and e.run.local_id == local_id
                    and e.run.state is RunState.RUNNING
                    for _, e in seen
                ),
                10.0,
                "the child's RUNNING, published here",
            )
            assert engine.requests_sent("basic") == 0  # followed: never polled here
            _kill(child)
            killed = time.monotonic()
            await child.wait()
            await _until(lambda: local_id in engine.monitor.tracked(), 3.0, "the take-over")
            print(f"took over {time.monotonic() - killed:.2f} s after kill -9")
            assert store.watcher(local_id) == store.owner
            final = await _until(
                lambda: (r := store.get(local_id)) is not None and r.is_final and r, 20.0, "end"
            )
            assert final.state is RunState.COMPLETED
            assert engine.requests_sent("basic") > 0
        finally:
            _kill(child)
            await child.wait()
            await engine.stop()
            store.close()


async def _watched_by(server: Any, sim_stats: Any, db: Path, watchers: int) -> int:
    """Four runs left unwatched on `db`, then `watchers` child engines started at once; the
    status requests the simulator got until every run ended."""
    store = RunStore.open(db)
    engine = Engine(sim_config(server, ["basic"]), store)
    await engine.start()
    runs = [await engine.kickoff("basic", {"topic": f"t{i}"}) for i in range(4)]
    await engine.stop()  # lets go of its claims: the runs are unwatched now
    before = await _status_requests(sim_stats, server)
    children = await asyncio.gather(*(_child(server, db, "watch") for _ in range(watchers)))
    try:
        assert all(words[0] == "watching" for _, words in children)
        owners = {words[1] for _, words in children}
        await _until(lambda: all(store.watcher(r.local_id) in owners for r in runs), 10.0, "claims")
        await _until(
            lambda: all((r := store.get(x.local_id)) and r.is_final for x in runs),
            30.0,
            "every run's end",
        )
        return await _status_requests(sim_stats, server) - before
    finally:
        for proc, _ in children:
            _kill(proc)
            await proc.wait()
        store.close()


async def test_two_processes_poll_no_more_than_one(
    tmp_path: Path, sim_app_factory: Any, sim_serve: Any, sim_stats: Any
) -> None:
    """The same four unwatched runs, watched by one engine process, then by two at once on
    one store: the simulator gets about as many status requests from the two."""
    async with sim_serve(sim_app_factory("testing", speed=0.5)) as server:
        one = await _watched_by(server, sim_stats, tmp_path / "one.sqlite3", 1)
        two = await _watched_by(server, sim_stats, tmp_path / "two.sqlite3", 2)
    print(f"status requests for 4 runs to their end: one process {one}, two processes {two}")
    assert two <= one * 1.3 + 4, (one, two)


_CLAIMER = """
import sys, time
from crewdash.core.store.database import RunStore
store = RunStore.open(sys.argv[1])
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
won = []
for i in range(int(sys.argv[3])):
    if store.claim_watch(str(i)) is None:
        won.append(str(i))
    time.sleep(0.002)  # let the others in: SQLite's busy handler favours the last writer
print(" ".join(won), flush=True)
sys.stdin.read()  # alive (holding its claims) until the parent closes stdin
"""


async def test_claims_race_between_processes_have_one_winner_each(tmp_path: Path) -> None:
    """Four processes claim the same 200 runs at the same instant: every run is won by
    exactly one of them (the read and the write of a claim are one transaction)."""
    db = tmp_path / "runs.sqlite3"
    RunStore.open(db).close()
    start = time.time() + 1.5
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CLAIMER,
            str(db),
            repr(start),
            "200",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    won: list[set[str]] = []
    for proc in procs:
        assert proc.stdout is not None
        won.append(set((await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()))
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        await proc.wait()
    print(f"claims won per process: {[len(w) for w in won]}")
    assert sum(len(w) for w in won) == 200
    assert set().union(*won) == {str(i) for i in range(200)}
