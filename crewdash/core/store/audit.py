"""The audit trail's rows (crewdash.core.audit): writing an operator's action with who, host,
channel and the server's answer, and listing decisions and actions merged, newest first.

Listing reads each table newest first through its `at` index (schema `_audit_who`), at most
one page from each, and merges them: the first page of a store with 100k actions reads a
page, not the table. Further pages start after the last key shown (keyset, no OFFSET)."""

from __future__ import annotations

import sqlite3
from typing import Any

from crewdash.aop.redact import redact
from crewdash.core.audit import (
    AuditEntry,
    AuditFilter,
    AuditKey,
    AuditKind,
    short_answer,
    this_host,
)
from crewdash.core.store.base import StoreBase, local_user
from crewdash.core.store.errors import StoreError

_RANKS = {"run_actions": 0, "decisions": 1}  # AuditKey.rank of each table's rows


class UnknownRunError(StoreError):
    """`--run` names no run and no paused kickoff of this store."""


def insert_action(
    conn: sqlite3.Connection,
    local_id: str,
    at: float,
    action: str,
    detail: str,
    *,
    user: str | None,
    channel: str,
    server_answer: str | None = None,
) -> None:
    """One row of `run_actions`, inside the caller's transaction (so it commits, or not,
    with the write it describes). The server's answer is redacted and cut to one line."""
    conn.execute(
        "INSERT INTO run_actions (local_id, at, user, action, detail, host, channel,"
        " server_answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            local_id,
            at,
            user or local_user(),
            action,
            redact(detail),  # our own words, with a server's quoted in them at times
            this_host(),
            channel,
            None if server_answer is None else short_answer(server_answer),
        ),
    )


def _key_clause(table: str, key: AuditKey, newer: bool) -> tuple[str, list[Any]]:
    """SQL for "this table's rows sort before (or, `newer`, after) `key`": its rows all
    share one rank, so the rank comparison is decided here, not in SQL."""
    rank = _RANKS[table]
    alias = "a" if table == "run_actions" else "d"
    strict, tie = (">", ">") if newer else ("<", "<")
    if rank == key.rank:
        return (
            f"({alias}.at {strict} ? OR ({alias}.at = ? AND {alias}.id {tie} ?))",
            [key.at, key.at, key.id],
        )
    rank_wins = rank > key.rank if newer else rank < key.rank
    return (f"{alias}.at {'>=' if newer else '<='} ?" if rank_wins else f"{alias}.at {strict} ?"), [
        key.at
    ]


def _decision_what(row: sqlite3.Row) -> str:
    if row["choice"] is not None:
        return f"outcome {row['choice']}"
    if row["approve"] is None:
        return f"via {row['channel']}"
    return "approved" if row["approve"] else "changes requested"


def _decision_entry(row: sqlite3.Row) -> AuditEntry:
    answer = row["server_answer"]
    return AuditEntry(
        kind=AuditKind.DECISION,
        id=row["id"],
        at=row["at"],
        user=row["user"],
        host=row["host"],
        channel=row["origin"],
        crew=row["crew"],
        local_id=row["run_id"],
        kickoff_id=row["kickoff_id"],
        what="answer",
        detail=_decision_what(row),
        server_answer=None if answer is None else short_answer(answer),
        outcome=row["outcome"],
        feedback=row["feedback"],
        request_id=row["request_id"],
    )


def _action_entry(row: sqlite3.Row) -> AuditEntry:
    answer = row["server_answer"]
    return AuditEntry(
        kind=AuditKind.ACTION,
        id=row["id"],
        at=row["at"],
        user=row["user"],
        host=row["host"],
        channel=row["channel"],
        crew=row["crew"],
        local_id=row["local_id"],
        kickoff_id=row["kickoff_id"],
        what=row["action"],
        detail=short_answer(row["detail"]),
        server_answer=None if answer is None else short_answer(answer),
    )


class AuditMixin(StoreBase):
    """`RunStore`'s audit trail (see the module docstring)."""

    def audit(
        self,
        where: AuditFilter | None = None,
        *,
        limit: int = 100,
        before: AuditKey | None = None,
        after: AuditKey | None = None,
    ) -> list[AuditEntry]:
        """Decisions (not the store's own observations) and actions, newest first, at most
        `limit`; only those older than `before` / newer than `after` when given.
        UnknownRunError when `where.run` names nothing this store knows."""
        where = where or AuditFilter()
        run = self._audit_run(where.run) if where.run else None
        actions = self._audit_rows("run_actions", where, run, limit, before, after)
        decisions = self._audit_rows("decisions", where, run, limit, before, after)
        merged = [_action_entry(r) for r in actions] + [_decision_entry(r) for r in decisions]
        merged.sort(key=lambda e: e.key, reverse=True)
        return merged[:limit]

    def _audit_run(self, ref: str) -> tuple[str | None, str | None, str | None]:
        """(local id, crew, kickoff id) of the run `ref` names in any id form (a prefix of 4+
        characters of a local or kickoff id will do); a kickoff id only paused requests know
        gives (None, None, the id)."""
        ref = ref.strip()
        rows = self._read(
            "SELECT local_id, crew, kickoff_id FROM runs"
            " WHERE local_id = ? OR request_id = ? OR kickoff_id = ? LIMIT 2",
            (ref, ref, ref),
        )
        if not rows and len(ref) >= 4:  # a prefix: of a local id, or of a kickoff id as shown
            like = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._read(
                "SELECT local_id, crew, kickoff_id FROM runs WHERE local_id LIKE ? ESCAPE '\\'"
                " OR kickoff_id LIKE ? ESCAPE '\\' LIMIT 2",
                (like, like),
            )
        if len(rows) > 1:
            raise UnknownRunError(f"{ref!r} names more than one run; give more of its id")
        if rows:
            return rows[0]["local_id"], rows[0]["crew"], rows[0]["kickoff_id"]
        if self._read("SELECT 1 FROM human_requests WHERE kickoff_id = ? LIMIT 1", (ref,)):
            return None, None, ref
        raise UnknownRunError(
            f"no run {ref!r} in the store (give a local id, a request id or a kickoff id;"
            " see `crewdash runs`)"
        )

    def _audit_rows(
        self,
        table: str,
        where: AuditFilter,
        run: tuple[str | None, str | None, str | None] | None,
        limit: int,
        before: AuditKey | None,
        after: AuditKey | None,
    ) -> list[sqlite3.Row]:
        """At most `limit` rows of one table, newest first, filtered in SQL."""
        if table == "run_actions":
            alias, crew_col, run_col = "a", "r.crew", "a.local_id"
            sql = (
                "SELECT a.*, r.crew, r.kickoff_id FROM run_actions a"
                " JOIN runs r ON r.local_id = a.local_id"
            )
            clauses: list[str] = []
        else:
            alias, crew_col, run_col = "d", "h.crew", "COALESCE(h.local_id, r.local_id)"
            sql = (
                "SELECT d.*, h.crew, h.kickoff_id, COALESCE(h.local_id, r.local_id) AS run_id"
                " FROM decisions d LEFT JOIN human_requests h ON h.id = d.request_id"
                " LEFT JOIN runs r ON r.crew = h.crew AND r.kickoff_id = h.kickoff_id"
            )
            clauses = ["d.channel != 'observed'"]  # the store's own word, not a human's
        params: list[Any] = []
        if where.crew:
            clauses.append(f"{crew_col} = ?")
            params.append(where.crew)
        if run is not None:
            local_id, _crew, kickoff_id = run
            if local_id is not None:
                clauses.append(f"{run_col} = ?")
                params.append(local_id)
            elif table == "run_actions":
                return []
            else:
                clauses.append("h.kickoff_id = ?")
                params.append(kickoff_id)
        if where.operator:
            user, _, host = where.operator.partition("@")
            clauses.append(f"{alias}.user = ?")
            params.append(user)
            if host:
                clauses.append(f"{alias}.host = ?")
                params.append(host)
        if where.since is not None:
            clauses.append(f"{alias}.at >= ?")
            params.append(where.since)
        for key, newer in ((before, False), (after, True)):
            if key is not None:
                clause, values = _key_clause(table, key, newer)
                clauses.append(clause)
                params.extend(values)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {alias}.at DESC, {alias}.id DESC LIMIT ?"
        params.append(limit)
        return self._read(sql, params)
