"""Human-input requests (deduplicated) and the decision audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource
from crewdash.core.store import base as store_module
from crewdash.core.store.database import RunStore, StoreError


@pytest.fixture
def store(tmp_path: Path):
    s = RunStore.open(tmp_path / "runs.sqlite3", now=lambda: 100.0)
    yield s
    s.close()


def _req(**kw) -> HumanRequest:
    base = dict(id="k1:t1", crew="c", source=RequestSource.STATUS, received_at=1.0)
    base.update(kw)
    return HumanRequest(**base)


def test_request_dedup_and_merge(store: RunStore) -> None:
    first, new = store.upsert_request(_req(kickoff_id="k1", task_id="t1", output="draft"))
    assert new and store.pending_requests() == [first]
    merged, new = store.upsert_request(
        _req(
            source=RequestSource.CREW_WEBHOOK,
            received_at=5.0,
            prompt="Approve?",
            output="",
            emit=("ok", "no"),
        )
    )
    assert not new
    # first sighting's identity kept, later details filled in, empty values do not erase
    assert merged.source is RequestSource.STATUS and merged.received_at == 1.0
    assert (merged.prompt, merged.output, merged.emit) == ("Approve?", "draft", ("ok", "no"))
    assert store.get_request("k1:t1") == merged
    assert store.pending_requests() == [merged]
    assert store.get_request("missing") is None


def test_decision_audit_trail(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module.getpass, "getuser", lambda: "night-operator")
    store.upsert_request(_req())
    did = store.record_decision(Decision("k1:t1", "looks wrong", approve=False), "resume")
    [row] = store.decisions("k1:t1")
    assert row["id"] == did and row["user"] == "night-operator" and row["at"] == 100.0
    assert (row["feedback"], row["approve"], row["channel"]) == ("looks wrong", False, "resume")
    assert row["outcome"] is AnswerOutcome.PENDING and row["server_answer"] is None
    assert store.pending_requests() != []  # written before it is sent: still waiting

    store.record_outcome(did, AnswerOutcome.FAILED, "connection dropped")
    assert store.get_request("k1:t1").answered is None  # failed: the operator may retry
    did2 = store.record_decision(
        Decision("k1:t1", "fine", approve=True, user="alice", at=7.0), "resume"
    )
    store.record_outcome(did2, AnswerOutcome.ACCEPTED, '{"status": "resumed"}', at=8.0)
    rows = store.decisions("k1:t1")
    assert [(r["user"], r["outcome"]) for r in rows] == [
        ("night-operator", AnswerOutcome.FAILED),
        ("alice", AnswerOutcome.ACCEPTED),
    ]
    assert rows[1]["server_answer"] == '{"status": "resumed"}' and rows[1]["answered_at"] == 8.0
    assert store.get_request("k1:t1").answered is AnswerOutcome.ACCEPTED
    assert store.pending_requests() == []


def test_flow_decision_keeps_outcome_choice(store: RunStore) -> None:
    store.upsert_request(_req(id="flow-1", source=RequestSource.FLOW_WEBHOOK, emit=("a", "b")))
    did = store.record_decision(Decision("flow-1", "go", outcome="b", user="u"), "callback")
    store.record_outcome(did, AnswerOutcome.ANSWERED_ELSEWHERE, "409 already_responded")
    [row] = store.decisions("flow-1")
    assert row["outcome_choice"] == "b" and row["approve"] is None
    assert store.get_request("flow-1").answered is AnswerOutcome.ANSWERED_ELSEWHERE


def test_outcome_for_unknown_decision(store: RunStore) -> None:
    with pytest.raises(StoreError):
        store.record_outcome(999, AnswerOutcome.ACCEPTED, "")


def test_requests_of_an_older_store_keep_their_ids_and_gain_attempt_and_flow(
    tmp_path: Path,
) -> None:
    import sqlite3

    from crewdash.core.store.schema import migrate

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, upto=2) == 2
    rows = [
        ("k1:review", "status", "k1", "review", "[]"),
        ("k1:review#3", "crew_webhook", "k1", "review", "[]"),
        ("k2:check:1", "flow_webhook", "k2", None, '["approve", "reject"]'),
        ("k3:step", "status", "k3", "step", '["go"]'),
    ]
    for rid, source, kickoff, task, emit in rows:
        conn.execute(
            "INSERT INTO human_requests (id, crew, source, received_at, kickoff_id, task_id,"
            " emit_json) VALUES (?, 'c', ?, 1.0, ?, ?, ?)",
            (rid, source, kickoff, task, emit),
        )
    conn.close()
    with RunStore.open(path) as s:
        plain, third, flow, emitted = (s.get_request(r[0]) for r in rows)
        assert (plain.attempt, plain.is_flow, plain.flow_request_id) == (1, False, None)
        assert third.attempt == 3 and not third.is_flow
        assert flow.is_flow and flow.flow_request_id == "k2:check:1" and flow.attempt == 1
        assert emitted.is_flow and emitted.flow_request_id is None
        assert [r.id for r in s.pending_requests()] == [r[0] for r in rows]
