"""The store's answer claims (issue 13): one answer per request among the processes sharing a
store file. Two RunStore connections on one real SQLite file stand in for two processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource
from crewdash.core.store.database import RunStore
from crewdash.core.store.schema import migrate, schema_version


def _request(store: RunStore, rid: str = "k1:review") -> HumanRequest:
    req = HumanRequest(
        id=rid, crew="review", source=RequestSource.STATUS, received_at=1.0, kickoff_id="k1",
        task_id="review", output="draft",
    )  # fmt: skip
    store.place_request("k1", None, lambda known: req)
    return req


def _words(winner) -> str:
    return f"not sent: {winner.user} answered first"


def test_the_second_claim_is_told_who_answered(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    one, two = RunStore.open(db), RunStore.open(db)
    req = _request(one)
    first, winner = one.claim_answer(
        Decision(req.id, "shorter", False, None, "ana"), "resume", _words
    )
    assert winner is None
    _second, winner = two.claim_answer(Decision(req.id, "fine", True, None, "bo"), "resume", _words)
    assert winner is not None and winner.id == first and winner.user == "ana"
    assert winner.approve is False and winner.result is AnswerOutcome.PENDING
    one.record_outcome(first, AnswerOutcome.ACCEPTED, "retrying")
    rows = two.decisions(req.id)
    assert [(d["user"], str(d["outcome"])) for d in rows] == [
        ("ana", "accepted"),
        ("bo", "answered_elsewhere"),
    ]
    assert rows[1]["server_answer"] == "not sent: ana answered first"
    # answered: a third one is told the same, nothing is claimed again
    _, winner = two.claim_answer(Decision(req.id, "x", True, None, "cy"), "resume", _words)
    assert winner is not None and winner.user == "ana"
    one.close()
    two.close()


def test_a_failed_send_frees_the_request(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    req = _request(store)
    first, _ = store.claim_answer(Decision(req.id, "a", True, None, "ana"), "resume", _words)
    store.record_outcome(first, AnswerOutcome.FAILED, "502")
    again, winner = store.claim_answer(Decision(req.id, "a", True, None, "ana"), "resume", _words)
    assert winner is None and again != first
    store.close()


def test_the_claim_of_a_process_that_died_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    store = RunStore.open(db)
    req = _request(store)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    _first, _ = store.claim_answer(Decision(req.id, "a", True, None, "ana"), "resume", _words)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE answer_claims SET pid = ?", (int(dead.stdout),))
    conn.commit()
    conn.close()
    again, winner = store.claim_answer(Decision(req.id, "b", True, None, "bo"), "resume", _words)
    assert winner is None
    [old, new] = store.decisions(req.id)
    assert str(old["outcome"]) == "failed" and "interrupted" in old["server_answer"]
    assert new["id"] == again and str(new["outcome"]) == "pending"
    store.close()


def test_the_claims_migration_applies_to_a_version_3_file(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    migrate(conn, upto=3)
    assert schema_version(conn) == 3
    migrate(conn)
    assert conn.execute("SELECT count(*) FROM answer_claims").fetchone() == (0,)
    conn.close()
