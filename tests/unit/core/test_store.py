"""The run store on a real SQLite file: WAL, schema, kickoff rows, history only on change,
reopen after close."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from crewdash.aop.models import Progress, RunResult, RunState, RunStatus, TaskOutput
from crewdash.core.models import KickoffPhase
from crewdash.core.store.database import RunStore, StoreError, store_path
from crewdash.core.store.schema import LATEST, SchemaTooNewError, migrate, schema_version


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore.open(tmp_path / "runs.sqlite3")
    yield s
    s.close()


def _status(state: RunState, raw: str | None = None, **kw) -> RunStatus:
    return RunStatus(state=state, raw_state=raw or str(state), **kw)


def test_open_uses_wal_and_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "runs.sqlite3"
    RunStore.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(conn) == LATEST
    conn.close()


def test_store_path_in_data_dir(tmp_path: Path) -> None:
    assert store_path(tmp_path) == tmp_path / "runs.sqlite3"


def test_synchronous_full_by_default(store: RunStore) -> None:
    # 2 == FULL: each commit fsyncs the WAL before returning.
    assert store._db().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_migrates_an_older_file_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, upto=1) == 1
    conn.execute(
        "INSERT INTO runs (local_id, crew, inputs_json, request_id, created_at, updated_at,"
        " phase, state, raw_state, kickoff_id) VALUES"
        " ('old1', 'c', '{\"a\": 1}', 'rq', 1.0, 1.0, 'accepted', 'running', 'running', 'k1')"
    )
    conn.close()
    with RunStore.open(path) as s:
        assert schema_version(s._db()) == LATEST
        rec = s.get("old1")
        assert rec is not None and rec.inputs == {"a": 1} and rec.kickoff_id == "k1"
        s.record_batch_row("b", "0", "old1")  # the table migration 2 added works
        assert s.batch_row_done("b", "0") == "old1"


def test_refuses_a_file_from_a_newer_crewdash(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer"):
        RunStore.open(path)


def test_kickoff_protocol_rows(store: RunStore) -> None:
    rec = store.create_intent("c", {"topic": "x"}, "rq1", {"task_url": "http://h/t"}, at=10.0)
    assert rec.phase is KickoffPhase.INTENT and rec.kickoff_id is None
    assert rec.webhooks == {"task_url": "http://h/t"} and rec.created_at == 10.0
    assert store.unfinished() == [rec]
    acc = store.mark_accepted(rec.local_id, "kick-1", at=11.0)
    assert acc.phase is KickoffPhase.ACCEPTED and acc.kickoff_id == "kick-1"
    assert store.find_by_kickoff_id("c", "kick-1") == acc
    assert store.find_by_kickoff_id("other", "kick-1") is None
    assert store.unfinished() == [acc]

    refused = store.mark_refused(store.create_intent("c", {}, "rq2", {}).local_id, "bad input")
    unknown = store.mark_unknown(store.create_intent("c", {}, "rq3", {}).local_id, "lost")
    assert refused.phase is KickoffPhase.REFUSED and refused.error == "bad input"
    assert unknown.phase is KickoffPhase.UNKNOWN and unknown.is_final
    assert [r.local_id for r in store.unfinished()] == [acc.local_id]
    assert "lost" in (store.history(unknown.local_id)[-1].detail or "")


def test_create_intent_is_idempotent_on_request_id(store: RunStore) -> None:
    a = store.create_intent("c", {"x": 1}, "same", {})
    b = store.create_intent("c", {"x": 1}, "same", {})
    assert a == b
    assert len(store.list_runs()) == 1


def test_unknown_run_is_an_error(store: RunStore) -> None:
    with pytest.raises(StoreError, match="nope"):
        store.mark_accepted("nope", "k")


def test_history_only_on_change_and_result_stored_once(store: RunStore) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    running = _status(RunState.RUNNING, current_task="research", progress=Progress(0, 2))
    r1, changed = store.record_status(rec.local_id, running, at=1.0)
    assert changed and r1.state is RunState.RUNNING and r1.current_task == "research"
    r2, changed = store.record_status(rec.local_id, running, at=2.0)
    assert not changed and r2 == r1
    _, changed = store.record_status(
        rec.local_id,
        _status(RunState.RUNNING, current_task="research", progress=Progress(1, 2)),
        at=3.0,
    )
    assert changed
    result = RunResult("final", (TaskOutput("t1", "out1", "agent", 1.5),))
    done, changed = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=result), at=4.0
    )
    assert changed and done.result == result and done.finished_at == 4.0
    assert (done.completed_tasks, done.total_tasks) == (2, 2)  # completed: every task done
    again, changed = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=RunResult("other")), at=5.0
    )
    assert not changed and again.result == result and again.finished_at == 4.0
    hist = store.history(rec.local_id)
    assert [(h.at, h.state) for h in hist] == [
        (1.0, RunState.RUNNING),
        (3.0, RunState.RUNNING),
        (4.0, RunState.COMPLETED),
    ]
    assert store.unfinished() == []


def test_a_completed_run_did_every_task_whatever_the_last_poll_said(store: RunStore) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    store.record_status(rec.local_id, _status(RunState.RUNNING, progress=Progress(1, 3)), at=1.0)
    done, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=RunResult("final")), at=2.0
    )
    assert (done.completed_tasks, done.total_tasks) == (3, 3)
    assert done.progress == (3, 3)
    rec = store.mark_accepted(store.create_intent("c", {}, "rq2", {}).local_id, "k2")
    store.record_status(rec.local_id, _status(RunState.RUNNING, progress=Progress(1, 2)), at=1.0)
    tasks = tuple(TaskOutput(f"t{n}", "o") for n in range(3))  # the result knows better
    done, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=RunResult("final", tasks)), at=2.0
    )
    assert (done.completed_tasks, done.total_tasks) == (3, 3)


def test_a_row_stored_with_stale_progress_reads_as_every_task_done(store: RunStore) -> None:
    from dataclasses import replace

    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    old = replace(rec, state=RunState.COMPLETED, completed_tasks=1, total_tasks=3)
    assert old.progress == (3, 3)  # what an older crewdash stored: "completed 1/3"
    assert replace(rec, completed_tasks=1, total_tasks=3).progress == (1, 3)
    assert rec.progress is None


def test_the_end_of_a_run_is_the_servers_execution_time_after_the_kickoff(
    store: RunStore,
) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}, at=1000.0).local_id, "k")
    store.record_status(rec.local_id, _status(RunState.RUNNING), at=1001.0)
    # seen completed 4 minutes later (crewdash was away); the server says it took 8 s
    done, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, execution_time=8.0), at=1240.0
    )
    assert done.finished_at == 1008.0 and done.duration == 8.0
    # never after the observation itself (a server clock or a queue counted differently)
    rec = store.mark_accepted(store.create_intent("c", {}, "rq2", {}, at=1000.0).local_id, "k2")
    late, _ = store.record_status(
        rec.local_id, _status(RunState.ERROR, error="x", execution_time=99.0), at=1005.0
    )
    assert late.finished_at == 1005.0


def test_a_run_that_ended_unseen_has_no_made_up_end(store: RunStore) -> None:
    rec = store.create_intent("c", {}, "rq", {}, at=1000.0)
    rec = store.mark_accepted(rec.local_id, "k", at=1000.5)
    store.record_status(rec.local_id, _status(RunState.RUNNING), at=1001.0)
    gone, _ = store.record_status(rec.local_id, _status(RunState.COMPLETED), at=1240.0)
    assert gone.finished_at is None and gone.duration is None  # unknown, not 240 s
    # A poller that kept seeing it unfinished until just before dates the end by its look.
    rec = store.create_intent("c", {}, "rq2", {}, at=1000.0)
    rec = store.mark_accepted(rec.local_id, "k2", at=1000.5)
    store.record_status(rec.local_id, _status(RunState.RUNNING), at=1001.0)
    seen, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED), at=1240.0, seen_at=1238.0
    )
    assert seen.finished_at == 1240.0 and seen.duration == 240.0


def test_a_run_first_seen_completed_takes_its_progress_from_the_result(store: RunStore) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    tasks = (TaskOutput("t1", "out1"), TaskOutput("t2", "out2"))
    done, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=RunResult("final", tasks)), at=1.0
    )
    assert (done.completed_tasks, done.total_tasks) == (2, 2)
    rec = store.mark_accepted(store.create_intent("c", {}, "rq2", {}).local_id, "k2")
    bare, _ = store.record_status(
        rec.local_id, _status(RunState.COMPLETED, result=RunResult("final")), at=1.0
    )
    assert (bare.completed_tasks, bare.total_tasks) == (None, None)  # nothing to go on


def test_raw_state_change_alone_is_a_change(store: RunStore) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    store.record_status(rec.local_id, _status(RunState.UNKNOWN, "weird_a"), at=1.0)
    r, changed = store.record_status(rec.local_id, _status(RunState.UNKNOWN, "weird_b"), at=2.0)
    assert changed and r.raw_state == "weird_b"
    assert [h.raw_state for h in store.history(rec.local_id)] == ["weird_a", "weird_b"]


def test_error_stored_once(store: RunStore) -> None:
    rec = store.mark_accepted(store.create_intent("c", {}, "rq", {}).local_id, "k")
    r, _ = store.record_status(rec.local_id, _status(RunState.ERROR, error="boom"), at=1.0)
    assert r.error == "boom" and store.history(rec.local_id)[-1].detail == "boom"
    r, changed = store.record_status(rec.local_id, _status(RunState.ERROR, error="b2"), at=2.0)
    assert not changed and r.error == "boom"


def test_flags(store: RunStore) -> None:
    rec = store.create_intent("c", {}, "rq", {})
    r = store.set_flags(rec.local_id, stalled=True, offline_since=5.0, note="slow")
    assert (r.stalled, r.offline_since, r.note) == (True, 5.0, "slow")
    r = store.set_flags(rec.local_id, note=None)  # others untouched
    assert (r.stalled, r.offline_since, r.note) == (True, 5.0, None)
    r = store.set_flags(rec.local_id, stalled=False, offline_since=None)
    assert (r.stalled, r.offline_since) == (False, None)
    assert store.history(rec.local_id) == []


def test_list_runs_filters_newest_first(store: RunStore) -> None:
    ids = []
    for i, crew in enumerate(["a", "b", "a"]):
        rec = store.mark_accepted(store.create_intent(crew, {}, f"rq{i}", {}, at=i).local_id, "k")
        ids.append(rec.local_id)
    store.record_status(ids[2], _status(RunState.COMPLETED), at=9)
    assert [r.local_id for r in store.list_runs()] == ids[::-1]
    assert [r.local_id for r in store.list_runs(crew="a")] == [ids[2], ids[0]]
    assert [r.local_id for r in store.list_runs(states=[RunState.COMPLETED])] == [ids[2]]
    assert store.list_runs(states=[]) == []
    assert [r.local_id for r in store.list_runs(since=1)] == [ids[2], ids[1]]
    assert [r.local_id for r in store.list_runs(limit=1)] == [ids[2]]


def test_meta(store: RunStore) -> None:
    assert store.get_meta("status_route:c") is None
    store.set_meta("status_route:c", "id_first")
    store.set_meta("status_route:c", "status_first")
    assert store.get_meta("status_route:c") == "status_first"


def test_batch_rows_recorded_with_the_intent(store: RunStore) -> None:
    assert store.batch_row_done("b1", "row-0") is None
    rec = store.create_intent("c", {}, "rq", {}, batch_row=("b1", "row-0"))
    assert store.batch_row_done("b1", "row-0") == rec.local_id
    other = store.create_intent("c", {}, "rq2", {})
    store.record_batch_row("b1", "row-0", other.local_id)  # e.g. retry after a refusal
    store.record_batch_row("b1", "row-1", rec.local_id)
    assert store.batch_rows("b1") == {"row-0": other.local_id, "row-1": rec.local_id}
    assert store.batch_row_done("b2", "row-0") is None


def test_reopen_after_close_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    s = RunStore.open(path)
    rec = s.create_intent("c", {"k": "v"}, "rq", {"crew_url": "u"}, batch_row=("b", "0"))
    rec = s.mark_accepted(rec.local_id, "k1")
    rec, _ = s.record_status(rec.local_id, _status(RunState.COMPLETED, result=RunResult("o")), 2)
    s.set_meta("m", "v")
    hist = s.history(rec.local_id)
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.get(rec.local_id)
    with RunStore.open(path) as s2:
        assert s2.get(rec.local_id) == rec
        assert s2.history(rec.local_id) == hist
        assert s2.get_meta("m") == "v"
        assert s2.batch_row_done("b", "0") == rec.local_id


def test_usable_from_several_threads(store: RunStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                rec = store.create_intent("c", {}, f"{n}-{i}", {})
                store.mark_accepted(rec.local_id, f"k{n}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.list_runs()) == 80


def test_every_phase_change_is_compare_and_set(store: RunStore, tmp_path: Path) -> None:
    from crewdash.core.store.database import PhaseConflict

    accepted = store.mark_accepted(store.create_intent("c", {}, "rq-a", {}).local_id, "k")
    with pytest.raises(PhaseConflict, match="accepted"):
        store.mark_unknown(accepted.local_id, "late reconciliation")
    with pytest.raises(PhaseConflict):
        store.mark_refused(accepted.local_id, "late refusal")
    assert store.get(accepted.local_id) == accepted  # untouched
    other = RunStore.open(store.path)  # another owner, alive while open
    try:
        theirs = other.create_intent("c", {}, "rq-theirs", {})
        with pytest.raises(PhaseConflict, match="sent by process"):
            store.begin_send(theirs.local_id)  # never send a row another process owns
        sending = other.begin_send(theirs.local_id)
        assert sending.attempts == 1 and sending.sent_at is not None
        with pytest.raises(PhaseConflict):
            other.begin_send(theirs.local_id)  # one request on the wire at a time
    finally:
        other.close()


def test_unknown_rows_have_no_finished_at_and_adoption_clears_the_error(store: RunStore) -> None:
    rec = store.create_intent("c", {}, "rq", {})
    unknown = store.mark_unknown(rec.local_id, "lost")
    assert unknown.finished_at is None and unknown.is_final
    adopted = store.mark_accepted(rec.local_id, "k-found")
    assert adopted.phase is KickoffPhase.ACCEPTED and adopted.error is None
    assert adopted.finished_at is None and not adopted.is_final
    assert store.list_runs(phases=[KickoffPhase.ACCEPTED]) == [adopted]
    assert store.list_runs(phases=[KickoffPhase.UNKNOWN]) == []


def test_a_status_write_rereads_its_row_only_while_another_process_could_write(
    tmp_path: Path,
) -> None:
    """`record_status` reads the row again inside its write transaction (another process may
    have written since its first read), except when its batch already holds the write lock:
    then nobody could have."""
    store = RunStore.open(tmp_path / "runs.sqlite3")
    try:
        ids = [
            store.mark_accepted(
                store.create_intent("c", {}, f"rq{n}", {}).local_id, f"k{n}"
            ).local_id
            for n in range(3)
        ]
        reads: list[str] = []
        store._db().set_trace_callback(
            lambda sql: reads.append(sql) if sql.startswith("SELECT * FROM runs") else None
        )
        running = RunStatus(state=RunState.RUNNING, raw_state="running", current_task="t1")
        store.record_status(ids[0], running, at=1.0)
        assert len(reads) == 2  # read, then read again under the lock
        reads.clear()
        with store.batch():
            store.record_status(ids[1], running, at=2.0)  # begins the batch's transaction
            store.record_status(ids[2], running, at=2.0)  # the lock is held: no second read
        assert len(reads) == 3
        store._db().set_trace_callback(None)
        assert [store.get(i).current_task for i in ids] == ["t1"] * 3  # type: ignore[union-attr]
    finally:
        store.close()
