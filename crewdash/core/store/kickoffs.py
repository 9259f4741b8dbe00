"""The kickoff protocol's rows (docs/design.md#kickoff-protocol): the intent written before
anything is sent, the send stamped and counted, the server's answer (ACCEPTED / REFUSED /
UNKNOWN), and the rows a dead process left in INTENT. Every change of phase is a
compare-and-set, so two processes never both send one row (PhaseConflict)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from crewdash.aop.models import RunState
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.lease import owner_alive
from crewdash.core.store.audit import insert_action
from crewdash.core.store.base import StoreBase, new_local_id
from crewdash.core.store.batches import record_batch_row_in
from crewdash.core.store.errors import PhaseConflict
from crewdash.core.store.rows import dumps, run_from_row


class KickoffsMixin(StoreBase):
    """`RunStore`'s kickoff protocol (see the module docstring)."""

    def create_intent(
        self,
        crew: str,
        inputs: dict[str, Any],
        request_id: str,
        webhooks: dict[str, str],
        *,
        at: float | None = None,
        batch_row: tuple[str, str] | None = None,
    ) -> RunRecord:
        """Write the intent row before anything is sent, owned by this process (its lease).
        Idempotent on `request_id`.

        `batch_row` (batch key, row key) is recorded in the same transaction, so a resumed
        batch finds the row's run even if the process dies right after this call.
        """
        at = self._now() if at is None else at
        owner = self.owner
        with self._write() as conn:
            row = conn.execute("SELECT * FROM runs WHERE request_id = ?", (request_id,)).fetchone()
            if row is not None:
                return run_from_row(row)
            local_id = new_local_id()
            conn.execute(
                """INSERT INTO runs (local_id, crew, inputs_json, request_id, webhooks_json,
                   created_at, updated_at, phase, state, raw_state, owner)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    local_id,
                    crew,
                    dumps(dict(inputs)),
                    request_id,
                    dumps(dict(webhooks)),
                    at,
                    at,
                    str(KickoffPhase.INTENT),
                    str(RunState.PENDING),
                    "pending",
                    owner,
                ),
            )
            if batch_row is not None:
                record_batch_row_in(conn, batch_row[0], batch_row[1], local_id, at)
            return self._run_in(conn, local_id)

    def _transition(
        self,
        conn: sqlite3.Connection,
        local_id: str,
        expect: Iterable[KickoffPhase],
        sets: dict[str, Any],
        *,
        mine: bool = False,
    ) -> RunRecord:
        """Compare-and-set: apply `sets` only if the row is in one of the `expect` phases
        (and, with `mine`, owned by this process); PhaseConflict otherwise."""
        wanted = [str(p) for p in expect]
        where = f"local_id = :_id AND phase IN ({', '.join(f':_p{i}' for i in range(len(wanted)))})"
        params: dict[str, Any] = {"_id": local_id, **{f"_p{i}": w for i, w in enumerate(wanted)}}
        if mine:
            where += " AND owner = :_owner"
            params["_owner"] = self._lease.id
        assignments = ", ".join(f"{name} = :{name}" for name in sets)
        cursor = conn.execute(f"UPDATE runs SET {assignments} WHERE {where}", {**sets, **params})
        current = self._run_in(conn, local_id)  # StoreError when there is no such run
        if cursor.rowcount != 1:
            raise PhaseConflict(current, tuple(KickoffPhase(w) for w in wanted))
        return current

    @staticmethod
    def _history_in(conn: sqlite3.Connection, local_id: str, at: float, detail: str) -> None:
        conn.execute(
            "INSERT INTO state_changes (local_id, at, raw_state, state, current_task, detail)"
            " SELECT local_id, ?, raw_state, state, current_task, ? FROM runs"
            " WHERE local_id = ?",
            (at, detail, local_id),
        )

    def begin_send(self, local_id: str, *, at: float | None = None) -> RunRecord:
        """The request is about to go on the wire: stamp `sent_at`, count the attempt. Only
        a row of ours in INTENT with nothing on the wire; PhaseConflict otherwise (then the
        request must not be sent)."""
        at = self._now() if at is None else at
        with self._write() as conn:
            row = conn.execute(
                "SELECT sent_at FROM runs WHERE local_id = ?", (local_id,)
            ).fetchone()
            if row is not None and row["sent_at"] is not None:
                raise PhaseConflict(self._run_in(conn, local_id), (KickoffPhase.INTENT,))
            return self._transition(
                conn,
                local_id,
                (KickoffPhase.INTENT,),
                {
                    "sent_at": at,
                    "attempts": self._attempts_in(conn, local_id) + 1,
                    "updated_at": at,
                },
                mine=True,
            )

    @staticmethod
    def _attempts_in(conn: sqlite3.Connection, local_id: str) -> int:
        row = conn.execute("SELECT attempts FROM runs WHERE local_id = ?", (local_id,)).fetchone()
        return int(row["attempts"]) if row is not None else 0

    def mark_not_taken(self, local_id: str, reason: str, *, at: float | None = None) -> RunRecord:
        """The server said it did not take the request (429, 503): nothing is on the wire
        any more; the row stays ours, in INTENT, to be sent again."""
        at = self._now() if at is None else at
        with self._write() as conn:
            return self._transition(
                conn,
                local_id,
                (KickoffPhase.INTENT,),
                {"sent_at": None, "error": reason, "updated_at": at},
                mine=True,
            )

    def _kickoff_action_in(
        self,
        conn: sqlite3.Connection,
        local_id: str,
        at: float,
        detail: str,
        answer: str | None,
    ) -> None:
        """The kickoff's line of the audit trail, in the transaction that stores its answer."""
        insert_action(
            conn,
            local_id,
            at,
            "kickoff",
            detail,
            user=None,
            channel=self.channel,
            server_answer=answer,
        )

    def mark_accepted(
        self, local_id: str, kickoff_id: str, *, at: float | None = None
    ) -> RunRecord:
        """The server's kickoff id. From INTENT (the answer), or from UNKNOWN (a late
        answer, an adoption): the id is the truth whatever was believed before. Written to
        the audit trail with it (`kickoff`, accepted)."""
        at = self._now() if at is None else at
        with self._write() as conn:
            record = self._transition(
                conn,
                local_id,
                (KickoffPhase.INTENT, KickoffPhase.UNKNOWN),
                {
                    "phase": str(KickoffPhase.ACCEPTED),
                    "kickoff_id": kickoff_id,
                    "error": None,
                    "owner": None,
                    "finished_at": None,
                    "updated_at": at,
                },
            )
            self._kickoff_action_in(
                conn,
                local_id,
                at,
                "accepted",  # the id: the run's, and the server's answer
                f"2xx: kickoff id {kickoff_id}",
            )
            return record

    def adopt(self, local_id: str, kickoff_id: str, detail: str) -> RunRecord:
        """An UNKNOWN row gets the kickoff id the operator (or a webhook) found: ACCEPTED,
        with a history line saying so and no stale error or end time."""
        at = self._now()
        with self._write() as conn:
            self._transition(
                conn,
                local_id,
                (KickoffPhase.UNKNOWN,),
                {
                    "phase": str(KickoffPhase.ACCEPTED),
                    "kickoff_id": kickoff_id,
                    "error": None,
                    "owner": None,
                    "finished_at": None,
                    "updated_at": at,
                },
            )
            self._history_in(conn, local_id, at, f"{detail}: kickoff id {kickoff_id}")
            return self._run_in(conn, local_id)

    def mark_refused(
        self,
        local_id: str,
        error: str,
        *,
        at: float | None = None,
        expect: Iterable[KickoffPhase] = (KickoffPhase.INTENT,),
        answer: str | None = None,
    ) -> RunRecord:
        """No run exists: the server refused (`answer`: what it said), or nothing was sent."""
        return self._mark_failed(local_id, KickoffPhase.REFUSED, error, at, expect, answer)

    def mark_unknown(
        self,
        local_id: str,
        reason: str,
        *,
        at: float | None = None,
        expect: Iterable[KickoffPhase] = (KickoffPhase.INTENT,),
        answer: str | None = None,
    ) -> RunRecord:
        """The request may have started a run: only the operator (or a webhook) can tell.
        Not finished: no `finished_at`. `answer`: what the server said, if it said anything."""
        return self._mark_failed(local_id, KickoffPhase.UNKNOWN, reason, at, expect, answer)

    def _mark_failed(
        self,
        local_id: str,
        phase: KickoffPhase,
        text: str,
        at: float | None,
        expect: Iterable[KickoffPhase],
        answer: str | None,
    ) -> RunRecord:
        """A kickoff's failed answer (from INTENT), or the operator's dismissal (from UNKNOWN,
        audited by its caller); the former is written to the audit trail with it."""
        at = self._now() if at is None else at
        expect = tuple(expect)
        with self._write() as conn:
            self._transition(
                conn,
                local_id,
                expect,
                {
                    "phase": str(phase),
                    "error": text,
                    "owner": None,
                    "updated_at": at,
                    "finished_at": at if phase is KickoffPhase.REFUSED else None,
                },
            )
            if KickoffPhase.INTENT in expect:  # after the write: it fails alone on a bad id
                self._kickoff_action_in(conn, local_id, at, f"{phase}: {text}", answer)
            self._history_in(conn, local_id, at, f"kickoff {phase}: {text}")
            return self._run_in(conn, local_id)

    def reclaim(
        self,
        local_id: str,
        *,
        expect: Iterable[KickoffPhase],
        request_id: str | None = None,
        at: float | None = None,
        detail: str | None = None,
    ) -> RunRecord:
        """Take a settled row back to INTENT, owned by this process, to send it again (a
        batch rerun of a row that never reached the server; a resend the operator asked
        for: then with a fresh `request_id`). The attempt count goes on."""
        at = self._now() if at is None else at
        owner = self.owner
        sets: dict[str, Any] = {
            "phase": str(KickoffPhase.INTENT),
            "owner": owner,
            "sent_at": None,
            "error": None,
            "finished_at": None,
            "kickoff_id": None,
            "updated_at": at,
        }
        if request_id is not None:
            sets["request_id"] = request_id
        with self._write() as conn:
            record = self._transition(conn, local_id, expect, sets)
            if detail:
                self._history_in(conn, local_id, at, detail)
            return record

    def orphans(self) -> list[RunRecord]:
        """INTENT rows whose owner is gone (its process died): oldest first."""
        rows = self._read(
            "SELECT * FROM runs WHERE phase = ? ORDER BY created_at, rowid",
            (str(KickoffPhase.INTENT),),
        )
        own = self._lease.id
        alive: dict[str, bool] = {}
        found = []
        for row in rows:
            owner = row["owner"] or ""
            if owner not in alive:
                alive[owner] = owner_alive(self._lease.directory, owner, own=own)
            if not alive[owner]:
                found.append(run_from_row(row))
        return found

    def settle_orphan(self, record: RunRecord, phase: KickoffPhase, reason: str) -> RunRecord:
        """Settle a dead owner's INTENT row: compare-and-set on phase and owner, so a row
        another process took meanwhile is left alone (PhaseConflict)."""
        at = self._now()
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET phase = ?, error = ?, owner = NULL, updated_at = ?,"
                " finished_at = ? WHERE local_id = ? AND phase = ? AND owner IS ?",
                (
                    str(phase),
                    reason,
                    at,
                    at if phase is KickoffPhase.REFUSED else None,
                    record.local_id,
                    str(KickoffPhase.INTENT),
                    record.owner,
                ),
            )
            current = self._run_in(conn, record.local_id)
            if cursor.rowcount != 1:
                raise PhaseConflict(current, (KickoffPhase.INTENT,))
            self._history_in(conn, record.local_id, at, f"kickoff {phase}: {reason}")
            return self._run_in(conn, record.local_id)
