"""Writes that depend on what was read hold when another process wrote in between (issue 14):
a real second process writes in the gap between `record_status`'s read and its write."""

from __future__ import annotations

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
