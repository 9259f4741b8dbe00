"""Writes that depend on what was read hold when another process wrote in between (issue 14):
a real second process writes in the gap between `record_status`'s read and its write."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from crewdash.aop.models import Progress, RunState, RunStatus
from crewdash.core.store.database import RunStore

_FINISHER = """
import sys
from crewdash.aop.models import RunResult, RunState, RunStatus
from crewdash.core.store.database import RunStore
store = RunStore.open(sys.argv[1])
status = RunStatus(state=RunState.COMPLETED, raw_state="completed", result=RunResult("final"))
store.record_status(sys.argv[2], status, at=5.0)
store.close()
"""

_PROGRESS = """
import sys
from crewdash.aop.models import Progress, RunState, RunStatus
from crewdash.core.store.database import RunStore
store = RunStore.open(sys.argv[1])
status = RunStatus(state=RunState.RUNNING, raw_state="running", error="said elsewhere",
                   progress=Progress(1, 2))
store.record_status(sys.argv[2], status, at=4.5)
store.close()
"""


def _in_the_gap(store: RunStore, script: str, local_id: str) -> list[str]:
    """Run `script` as another process when `store` opens its next write transaction (after
    its read); the statements seen, for the test to check the gap was hit."""
    seen: list[str] = []

    def trace(sql: str) -> None:
        if sql == "BEGIN IMMEDIATE" and not seen:
            seen.append(sql)
            subprocess.run([sys.executable, "-c", script, str(store.path), local_id], check=True)

    store._db().set_trace_callback(trace)
    return seen


def _started(script: str, store: RunStore, local_id: str, says: str) -> subprocess.Popen[str]:
    """`script` as another process on `store`'s file, once it printed `says` (its first line)."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(store.path), local_id],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == says
    return process


def test_a_late_status_does_not_undo_what_another_process_wrote(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
        running = RunStatus(state=RunState.RUNNING, raw_state="running", progress=Progress(0, 2))
        store.record_status(rec.local_id, running, at=1.0)
        gap = _in_the_gap(store, _FINISHER, rec.local_id)
        late = RunStatus(state=RunState.RUNNING, raw_state="running", progress=Progress(1, 2))
        record, changed = store.record_status(rec.local_id, late, at=4.0)
        store._db().set_trace_callback(None)
        assert gap, "the other process never wrote in the gap"
        assert not changed
        assert record.state is RunState.COMPLETED and record.result is not None
        stored = store.get(rec.local_id)
        assert stored is not None and stored.result is not None
        assert stored.result.output == "final" and stored.state is RunState.COMPLETED
    finally:
        store.close()


def test_a_status_applies_to_the_row_another_process_just_wrote(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
        running = RunStatus(state=RunState.RUNNING, raw_state="running", progress=Progress(0, 2))
        store.record_status(rec.local_id, running, at=1.0)
        gap = _in_the_gap(store, _PROGRESS, rec.local_id)
        later = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="second")
        record, changed = store.record_status(rec.local_id, later, at=6.0)
        store._db().set_trace_callback(None)
        assert gap and changed
        # the other process's error and progress stay; this status's task is added
        assert record.error == "said elsewhere" and record.completed_tasks == 1
        assert record.current_task == "second"
        assert [h.at for h in store.history(rec.local_id)] == [1.0, 4.5, 6.0]
    finally:
        store.close()


_WAITS_FOR_THE_LOCK = """
import sys
from crewdash.aop.models import Progress, RunState, RunStatus
from crewdash.core.store.database import RunStore
store = RunStore.open(sys.argv[1], busy_timeout=30.0)
def trace(sql):
    if sql == "BEGIN IMMEDIATE":
        print("waiting", flush=True)  # read done; now the write waits for the lock
store._db().set_trace_callback(trace)
status = RunStatus(state=RunState.RUNNING, raw_state="running", error="said elsewhere",
                   progress=Progress(1, 2))
store.record_status(sys.argv[2], status, at=7.0)
store.close()
"""

_HOLDS_THE_LOCK_THEN_DIES = """
import sys, time
from crewdash.aop.models import RunState, RunStatus
from crewdash.core.store.database import RunStore
store = RunStore.open(sys.argv[1])
with store.batch():
    status = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="never")
    store.record_status(sys.argv[2], status, at=3.0)
    print("holding", flush=True)
    time.sleep(600)  # SIGKILLed here, the batch never committed
"""


def test_a_batch_holding_the_lock_skips_its_reread_and_the_waiting_process_applies_after(
    tmp_path: Path,
) -> None:
    """The monitor's batch writes a second run while it holds the write lock (no second read:
    nobody can write meanwhile). A real second process read that run before and waits for the
    lock; once the batch commits it reads again and applies its status on top: both stay."""
    store = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        first, second = (
            store.mark_accepted(store.create_intent("c", {}, f"rq{n}", {}).local_id, f"k{n}")
            for n in range(2)
        )
        running = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="t1")
        with store.batch():
            store.record_status(first.local_id, running, at=5.0)  # the batch takes the lock
            other = _started(_WAITS_FOR_THE_LOCK, store, second.local_id, says="waiting")
            later = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="second")
            store.record_status(second.local_id, later, at=6.0)
        assert other.wait(timeout=60) == 0
        stored = store.get(second.local_id)
        assert stored is not None
        # the other process's observation is the later one: its progress and error stand
        assert stored.error == "said elsewhere" and stored.completed_tasks == 1
        history = [(h.at, h.current_task) for h in store.history(second.local_id)]
        assert history == [(6.0, "second"), (7.0, None)]  # the batch's change kept under it
    finally:
        store.close()


def test_a_process_killed_inside_its_batch_leaves_nothing_and_locks_nothing(
    tmp_path: Path,
) -> None:
    """A watcher SIGKILLed while its batch holds the write lock: its uncommitted status is
    gone, and the next process writes at once (the OS released the lock with the process)."""
    store = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
        dying = _started(_HOLDS_THE_LOCK_THEN_DIES, store, rec.local_id, says="holding")
        dying.send_signal(signal.SIGKILL)
        assert dying.wait(timeout=30) == -signal.SIGKILL
        running = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="t1")
        record, changed = store.record_status(rec.local_id, running, at=4.0)
        assert changed and record.current_task == "t1"
        assert [(h.at, h.current_task) for h in store.history(rec.local_id)] == [(4.0, "t1")]
    finally:
        store.close()
