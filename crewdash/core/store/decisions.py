"""The operator's decisions (the audit trail, written before an answer is sent) and the
one-answer-per-request claims (schema.py's `_answer_claims`): a process claims a request in
the transaction that writes its decision, so two crewdash processes never both answer it."""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable
from typing import Any

from crewdash.core.audit import this_host
from crewdash.core.models import AnswerOutcome, Decision, DecisionRecord, HumanRequest
from crewdash.core.store.base import StoreBase, local_user
from crewdash.core.store.errors import StoreError
from crewdash.core.store.rows import decision_from_row, decision_record_from_row, request_from_row


def _alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a claim's owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _decision_in(conn: sqlite3.Connection, decision_id: int) -> DecisionRecord | None:
    row = conn.execute(
        """SELECT d.*, r.kickoff_id, r.task_id, r.attempt
           FROM decisions d LEFT JOIN human_requests r ON r.id = d.request_id
           WHERE d.id = ?""",
        (decision_id,),
    ).fetchone()
    return decision_record_from_row(row) if row is not None else None


def _insert_decision(
    conn: sqlite3.Connection,
    decision: Decision,
    user: str,
    at: float,
    channel: str,
    outcome: AnswerOutcome,
    note: str | None = None,
    *,
    origin: str,
) -> int:
    """Write one decision row; a closed one (not PENDING) is answered at `at`, with `note` as
    what happened. `origin`: the operator's channel (dashboard, cli:resume, ...); `channel`
    is the answer's route. Returns its id."""
    cur = conn.execute(
        """INSERT INTO decisions (request_id, user, at, feedback, approve, choice,
           channel, outcome, server_answer, answered_at, host, origin)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            decision.request_id,
            user,
            at,
            decision.feedback,
            None if decision.approve is None else int(decision.approve),
            decision.outcome,
            channel,
            str(outcome),
            note,
            None if outcome is AnswerOutcome.PENDING else at,
            this_host(),
            origin,
        ),
    )
    return int(cur.lastrowid or 0)


def _live_claim_in(
    conn: sqlite3.Connection, request_id: str, host: str, at: float
) -> sqlite3.Row | None:
    """The request's claim, if any; None too when the claim's process (of this machine) died
    before its answer came back: its decision is then marked FAILED and the claim dropped."""
    claim: sqlite3.Row | None = conn.execute(
        "SELECT * FROM answer_claims WHERE request_id = ?", (request_id,)
    ).fetchone()
    if claim is None or claim["host"] != host or _alive(claim["pid"]):
        return claim
    conn.execute(
        "UPDATE decisions SET outcome = ?, server_answer = ?, answered_at = ?"
        " WHERE id = ? AND outcome = ?",
        (
            str(AnswerOutcome.FAILED),
            f"interrupted: process {claim['pid']} ended before the server answered",
            at,
            claim["decision_id"],
            str(AnswerOutcome.PENDING),
        ),
    )
    conn.execute("DELETE FROM answer_claims WHERE request_id = ?", (claim["request_id"],))
    return None


def _winner_in(
    conn: sqlite3.Connection, request_id: str, claim: sqlite3.Row | None, answered: bool
) -> DecisionRecord | None:
    """The decision that answered (or is answering) the request: the live claim's, else the
    last one the server took when the request is closed; None when there is none."""
    winner_id: int | None = claim["decision_id"] if claim is not None else None
    if winner_id is None and answered:
        row = conn.execute(
            "SELECT id FROM decisions WHERE request_id = ? AND outcome NOT IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (request_id, str(AnswerOutcome.FAILED), str(AnswerOutcome.PENDING)),
        ).fetchone()
        winner_id = row["id"] if row is not None else None
    return _decision_in(conn, winner_id) if winner_id is not None else None


class DecisionsMixin(StoreBase):
    """`RunStore`'s decisions and answer claims (see the module docstring)."""

    def record_decision(self, decision: Decision, channel: str) -> int:
        """Write the operator's answer before it is sent; outcome PENDING. Returns its id."""
        user = decision.user or local_user()
        at = decision.at or self._now()
        with self._write() as conn:
            return _insert_decision(
                conn,
                decision,
                user,
                at,
                channel,
                AnswerOutcome.PENDING,
                origin=decision.origin or self.channel,
            )

    def claim_answer(
        self,
        decision: Decision,
        channel: str,
        not_sent: Callable[[DecisionRecord], str],
    ) -> tuple[int, DecisionRecord | None]:
        """Write the operator's decision and claim its request for this process, in one
        transaction, before anything is sent. Returns (decision id, None): send it. When the
        request is claimed by another live process or already answered, the decision is
        written closed (ANSWERED_ELSEWHERE, `not_sent(winner)` as what happened, nothing sent)
        and (its id, the winner's decision) is returned. A claim of a process of this machine
        that died before its answer came back is taken over (its decision marked FAILED)."""
        user = decision.user or local_user()
        at = decision.at or self._now()
        host = socket.gethostname()
        with self._write() as conn:
            request = conn.execute(
                "SELECT answered FROM human_requests WHERE id = ?", (decision.request_id,)
            ).fetchone()
            answered = request is not None and request["answered"] is not None
            claim = _live_claim_in(conn, decision.request_id, host, at)
            winner = _winner_in(conn, decision.request_id, claim, answered)
            if winner is not None or answered:
                note = not_sent(winner) if winner else "not sent: already answered"
                decision_id = _insert_decision(
                    conn,
                    decision,
                    user,
                    at,
                    channel,
                    AnswerOutcome.ANSWERED_ELSEWHERE,
                    note,
                    origin=decision.origin or self.channel,
                )
                return decision_id, winner or _decision_in(conn, decision_id)
            decision_id = _insert_decision(
                conn,
                decision,
                user,
                at,
                channel,
                AnswerOutcome.PENDING,
                origin=decision.origin or self.channel,
            )
            conn.execute(
                "INSERT INTO answer_claims (request_id, decision_id, host, pid, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (decision.request_id, decision_id, host, os.getpid(), at),
            )
            return decision_id, None

    def decision(self, decision_id: int) -> DecisionRecord | None:
        with self._lock:
            return _decision_in(self._db(), decision_id)

    def record_outcome(
        self,
        decision_id: int,
        outcome: AnswerOutcome,
        server_answer: str,
        *,
        at: float | None = None,
        close_request: bool = True,
    ) -> None:
        """Close a decision. The request leaves the inbox unless the send FAILED (the
        operator may try again then) or `close_request` is False (nothing was sent and the
        request still waits, e.g. with another output than the operator saw)."""
        at = self._now() if at is None else at
        with self._write() as conn:
            row = conn.execute(
                "SELECT request_id FROM decisions WHERE id = ?", (decision_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no decision with id {decision_id}")
            conn.execute(
                "UPDATE decisions SET outcome = ?, server_answer = ?, answered_at = ? WHERE id = ?",
                (str(outcome), server_answer, at, decision_id),
            )
            if close_request and outcome not in (AnswerOutcome.FAILED, AnswerOutcome.PENDING):
                conn.execute(
                    "UPDATE human_requests SET answered = ? WHERE id = ?",
                    (str(outcome), row["request_id"]),
                )
            else:  # not delivered: the request may be answered again, here or elsewhere
                conn.execute("DELETE FROM answer_claims WHERE decision_id = ?", (decision_id,))

    def close_request(
        self,
        request_id: str,
        outcome: AnswerOutcome,
        note: str,
        *,
        user: str,
        channel: str,
        at: float | None = None,
    ) -> HumanRequest | None:
        """Record that a request no longer waits though nobody answered it here: a decision
        row (empty feedback, `note` as the server's answer) and the request closed, in one
        transaction, and only if it is still waiting (another process may have answered it
        meanwhile). Returns the closed request, or None when there was nothing to close."""
        at = self._now() if at is None else at
        with self._write() as conn:
            row = conn.execute(
                "SELECT answered FROM human_requests WHERE id = ?", (request_id,)
            ).fetchone()
            if row is None or row["answered"] is not None:
                return None
            conn.execute(
                """INSERT INTO decisions (request_id, user, at, feedback, channel, outcome,
                   server_answer, answered_at, host, origin)
                   VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?)""",
                (request_id, user, at, channel, str(outcome), note, at, this_host(), self.channel),
            )
            conn.execute(
                "UPDATE human_requests SET answered = ? WHERE id = ?", (str(outcome), request_id)
            )
            closed = conn.execute(
                "SELECT * FROM human_requests WHERE id = ?", (request_id,)
            ).fetchone()
            return request_from_row(closed)

    def decisions(self, request_id: str) -> list[dict[str, Any]]:
        rows = self._read("SELECT * FROM decisions WHERE request_id = ? ORDER BY id", (request_id,))
        return [decision_from_row(r) for r in rows]

    def decisions_for_run(self, local_id: str) -> list[DecisionRecord]:
        """Every human decision about one run (answers sent from any crewdash sharing this
        store, and requests seen closed without one), oldest first; [] for an unknown run."""
        run = self.get(local_id)
        if run is None:
            return []
        rows = self._read(
            """SELECT d.*, r.kickoff_id, r.task_id, r.attempt
               FROM decisions d JOIN human_requests r ON r.id = d.request_id
               WHERE r.local_id = ? OR (r.crew = ? AND r.kickoff_id = ?)
               ORDER BY d.at, d.id""",
            (local_id, run.crew, run.kickoff_id),
        )
        return [decision_record_from_row(r) for r in rows]
