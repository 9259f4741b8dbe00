"""The answers of one turn of the event loop go to the store in one transaction, and out as
events only once it committed (crewdash/core/monitor/tick.py), on a real SQLite file read back
through a second connection, as another process would see it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from crewdash.aop.models import RunState
from crewdash.core.events import EventBus
from crewdash.core.models import Event, RunChanged
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from crewdash.core.store.errors import StoreError
from engine.fakes import ManualClock, ScriptedClient, accepted_run, crew_config, status


def _on_disk(store: RunStore, local_id: str) -> tuple[str, str | None]:
    """The run's state and task as committed (a fresh connection sees only that)."""
    conn = sqlite3.connect(store.path)
    try:
        row = conn.execute(
            "SELECT state, current_task FROM runs WHERE local_id = ?", (local_id,)
        ).fetchone()
    finally:
        conn.close()
    return row[0], row[1]


def _commits(store: RunStore) -> list[str]:
    statements: list[str] = []
    assert store._conn is not None
    store._conn.set_trace_callback(statements.append)
    return statements


class FailingBatches:
    """The real store whose next `fail` batches break just before they commit (a crash, a
    full disk): what they wrote is rolled back."""

    def __init__(self, store: RunStore, fail: int) -> None:
        self.store = store
        self.fail = fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.store.batch():
            yield
            if self.fail:
                self.fail -= 1
                raise StoreError("disk I/O error")


def _monitor(store: Any, clock: ManualClock, answer: Any) -> tuple[Monitor, list[Event]]:
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    monitor = Monitor(store, bus, clock=clock, settings=MonitorSettings(jitter=0.0))
    monitor.add_crew(crew_config(poll_max=2.0), ScriptedClient(clock, answer))
    return monitor, events


async def test_changes_answered_together_are_one_transaction_on_disk_before_any_event(
    store: RunStore,
) -> None:
    clock = ManualClock()
    monitor, events = _monitor(store, clock, lambda k, n: status(task="write", done=0))
    runs = [accepted_run(store) for _ in range(4)]  # the cap on requests in flight: 4
    seen_on_disk: list[tuple[str, str | None]] = []
    monitor.bus.subscribe(
        lambda e: isinstance(e, RunChanged) and seen_on_disk.append(_on_disk(store, e.run.local_id))
    )
    statements = _commits(store)
    for run in runs:
        monitor.track(run)
    await monitor.start()
    await clock.advance(0.5)  # the four first polls, answered in the same turn of the loop
    await monitor.stop()
    changed = [e for e in events if isinstance(e, RunChanged)]
    assert sorted(e.run.local_id for e in changed) == sorted(r.local_id for r in runs)
    assert statements.count("COMMIT") == 1
    assert [s.split()[0] for s in statements if s.startswith("BEGIN")] == ["BEGIN"]
    # every subscriber saw the change when it was already committed
    assert seen_on_disk == [("running", "write")] * 4


async def test_a_batch_that_fails_to_commit_shows_nothing_and_is_written_again(
    store: RunStore,
) -> None:
    clock = ManualClock()
    failing = FailingBatches(store, fail=1)
    monitor, events = _monitor(failing, clock, lambda k, n: status(task="write", done=0))
    runs = [accepted_run(store) for _ in range(3)]
    shown: list[tuple[str, str | None]] = []
    monitor.bus.subscribe(
        lambda e: isinstance(e, RunChanged) and shown.append(_on_disk(store, e.run.local_id))
    )
    for run in runs:
        monitor.track(run)
    await monitor.start()
    await clock.advance(0.5)
    # the tick's transaction broke: none of its changes is on disk, so none was shown
    assert failing.fail == 0
    assert [_on_disk(store, r.local_id) for r in runs] == [("pending", None)] * 3
    assert not [e for e in events if isinstance(e, RunChanged)]
    await clock.advance(60)  # the next polls see the same status and write it this time
    await monitor.stop()
    assert [_on_disk(store, r.local_id) for r in runs] == [("running", "write")] * 3
    assert shown == [("running", "write")] * 3
    assert all(store.get(r.local_id).state is RunState.RUNNING for r in runs)


def test_a_batch_is_one_transaction_and_a_failing_write_in_it_is_undone_alone(
    store: RunStore,
) -> None:
    a, b, c = (accepted_run(store) for _ in range(3))
    statements = _commits(store)
    with store.batch():
        pass
    assert statements == []  # nothing written: no SQL at all
    with store.batch():
        store.record_status(a.local_id, status(task="one", done=0), 1.0)
        with pytest.raises(StoreError):
            store.set_flags("no-such-run", stalled=True)  # fails inside: undone alone
        store.record_status(b.local_id, status(task="two", done=0), 1.0)
        assert _on_disk(store, a.local_id) == ("pending", None)  # not before the end
    assert statements.count("COMMIT") == 1
    assert _on_disk(store, a.local_id) == ("running", "one")
    assert _on_disk(store, b.local_id) == ("running", "two")
    with pytest.raises(RuntimeError), store.batch():
        store.record_status(c.local_id, status(task="three", done=0), 2.0)
        raise RuntimeError("crash")
    assert _on_disk(store, c.local_id) == ("pending", None)
    store.record_status(c.local_id, status(task="three", done=0), 2.0)  # no batch left open
    assert _on_disk(store, c.local_id) == ("running", "three")
