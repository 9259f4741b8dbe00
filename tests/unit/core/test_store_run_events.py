"""A run's event stream in the real SQLite store: order, the bound per run (trimmed in the
same transaction), redaction, the change log, and the migration of an existing file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crewdash.aop.models import Secret
from crewdash.core.runs.run_events import EventKind, ParsedEvent, parse_delivery
from crewdash.core.store.database import RunStore
from crewdash.core.store.schema import LATEST, migrate, schema_version


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore.open(tmp_path / "runs.sqlite3")
    yield s
    s.close()


def _run(store: RunStore, kickoff_id: str = "k1") -> str:
    rec = store.create_intent("c", {}, f"rq-{kickoff_id}", {}, at=1.0)
    store.mark_accepted(rec.local_id, kickoff_id, at=2.0)
    return rec.local_id


def _event(n: int, at: float | None = None) -> ParsedEvent:
    return ParsedEvent(EventKind.STEP, at, f"step {n}", f'{{"n": {n}}}')


def test_events_are_listed_in_the_order_they_happened(store: RunStore) -> None:
    run, other = _run(store), _run(store, "k2")
    store.add_run_event(run, _event(1, at=20.0))
    store.add_run_event(run, _event(2, at=10.0))  # sent earlier, arrived later
    store.add_run_event(run, _event(3))  # no sender time: when it arrived
    store.add_run_event(other, _event(9, at=15.0))
    assert [e.summary for e in store.run_events(run)][:2] == ["step 2", "step 1"]
    assert {e.summary for e in store.run_events(run)} == {"step 1", "step 2", "step 3"}
    assert [e.summary for e in store.run_events(other)] == ["step 9"]
    arrived_first = min(store.run_events(run), key=lambda e: e.id)
    assert arrived_first.summary == "step 1"
    after = store.run_events(run, after=arrived_first.id)  # those that arrived since
    assert [e.summary for e in after] == ["step 2", "step 3"]


def test_a_run_keeps_only_its_newest_events(store: RunStore) -> None:
    run, other = _run(store), _run(store, "k2")
    store.add_run_event(other, _event(0))
    for n in range(1, 13):
        store.add_run_event(run, _event(n, at=float(n)), keep=5)
    kept = store.run_events(run)
    assert [e.summary for e in kept] == [f"step {n}" for n in range(8, 13)]
    assert store.run_event_count(run) == 5
    assert store.run_event_count(other) == 1  # another run's events are not trimmed


def test_the_default_bound_is_500_per_run(store: RunStore) -> None:
    run = _run(store)
    with store.batch():
        for n in range(505):
            store.add_run_event(run, _event(n, at=float(n)))
    assert store.run_event_count(run) == 500
    assert store.run_events(run)[0].summary == "step 5"


def test_no_token_this_process_holds_is_stored(store: RunStore, tmp_path: Path) -> None:
    token = Secret("tok-events-0123456789abcdef")
    run = _run(store)
    # a summary and raw that slipped past the parser: the store masks them again
    store.add_run_event(
        run, ParsedEvent(EventKind.UNKNOWN, None, f"x {token.reveal()}", f'"{token.reveal()}"')
    )
    store.add_run_event(
        run, parse_delivery({"webhook": "step", "thought": token.reveal(), "api_key": "sk-1"})
    )
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("runs.sqlite3*"))
    assert token.reveal().encode() not in data
    assert b"sk-1" not in data


def test_an_event_goes_to_the_change_log_once_per_run(store: RunStore) -> None:
    run = _run(store)
    mark = store.change_mark()
    store.add_run_event(run, _event(1))
    store.add_run_event(run, _event(2))
    changes = [c for c in store.changes_since(mark) if c.kind == "events"]
    assert [(c.kind, c.key) for c in changes] == [("events", run)]


def test_an_unknown_kind_in_the_file_reads_as_unknown(store: RunStore) -> None:
    run = _run(store)
    store.add_run_event(run, _event(1))
    with store._write() as conn:
        conn.execute("UPDATE run_events SET kind = 'from-the-future'")
    assert store.run_events(run)[0].kind is EventKind.UNKNOWN


def test_an_existing_store_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, upto=LATEST - 1) == LATEST - 1
    conn.execute(
        "INSERT INTO runs (local_id, crew, inputs_json, request_id, created_at, updated_at,"
        " phase, state, raw_state, kickoff_id) VALUES"
        " ('old1', 'c', '{}', 'rq', 1.0, 1.0, 'accepted', 'running', 'running', 'k1')"
    )
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'run_events'").fetchall() == []
    conn.close()
    with RunStore.open(path) as s:
        assert schema_version(s._db()) == LATEST
        assert s.get("old1") is not None
        s.add_run_event("old1", _event(1))
        assert [e.summary for e in s.run_events("old1")] == ["step 1"]


def test_a_delivery_is_kept_with_its_run(store: RunStore) -> None:
    from crewdash.core.runs.event_stream import keep_delivery

    run = _run(store)
    kept = keep_delivery(store, "c", {"webhook": "task", "kickoff_id": "k1", "task_id": "t"})
    assert kept is not None and kept.local_id == run and kept.kind is EventKind.TASK
    # another crew's run of the same id, a run nobody knows, a delivery naming no run: not kept
    assert keep_delivery(store, "other", {"webhook": "step", "kickoff_id": "k1"}) is None
    assert keep_delivery(store, "c", {"webhook": "step", "kickoff_id": "nope"}) is None
    assert keep_delivery(store, "c", {"webhook": "step"}) is None
    assert store.run_event_count(run) == 1


def test_a_first_step_before_the_kickoffs_answer_finds_its_run_by_meta(store: RunStore) -> None:
    from crewdash.core.runs.event_stream import keep_delivery
    from crewdash.core.runs.kickoff import META_KEY

    sending = store.create_intent("c", {}, "rq-early", {}, at=1.0)  # no kickoff id yet
    payload = {"webhook": "step", "kickoff_id": "k9", "meta": {META_KEY: "rq-early"}}
    kept = keep_delivery(store, "c", payload)
    assert kept is not None and kept.local_id == sending.local_id
    # a meta naming a run of another crew, or a run with another kickoff id: not that run
    assert keep_delivery(store, "d", payload) is None
    store.mark_accepted(sending.local_id, "k-other", at=2.0)
    assert keep_delivery(store, "c", payload) is None
