"""Run rows once they exist: the operator's actions on them (audit trail), what polling
observed (state, progress, result, end time, each change a history line), the monitor's
flags, and the reads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from types import EllipsisType
from typing import Any

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.models import KickoffPhase, RunRecord, StateChange
from crewdash.core.store.audit import insert_action
from crewdash.core.store.base import StoreBase
from crewdash.core.store.rows import change_from_row, result_to_json, run_from_row


class RunsMixin(StoreBase):
    """`RunStore`'s run rows after the kickoff (see the module docstring)."""

    def record_action(
        self,
        local_id: str,
        action: str,
        detail: str = "",
        *,
        user: str | None = None,
        channel: str | None = None,
        server_answer: str | None = None,
    ) -> None:
        """One line of the audit trail (crewdash.core.store.audit): who (this user and host
        unless `user` says), through `channel` (else this store's), the server's answer."""
        with self._write() as conn:
            insert_action(
                conn,
                local_id,
                self._now(),
                action,
                detail,
                user=user,
                channel=channel or self.channel,
                server_answer=server_answer,
            )

    def actions(self, local_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT at, user, action, detail, host, channel, server_answer FROM run_actions"
            " WHERE local_id = ? ORDER BY id",
            (local_id,),
        )
        return [dict(r) for r in rows]

    # --- observations ------------------------------------------------------------------------

    def record_status(
        self, local_id: str, status: RunStatus, at: float, *, seen_at: float | None = None
    ) -> tuple[RunRecord, bool]:
        """Apply one observation made at `at`. Writes only when something changed; a
        StateChange row is added for every change. The final result and error are stored once,
        never replaced. `seen_at`: when the caller last saw the run unfinished, if later than
        the record's `updated_at` (a poller that saw nothing change); it dates the run's end
        when the server does not (see `_finished_at`)."""
        with self._lock:
            held = self._write_lock_held()  # then nobody can write between the read and ours
            old = self._run_in(self._db(), local_id)
            new = _apply_status(old, status, at, seen_at)
            if _observed(new) == _observed(old):
                return old, False
            with self._write() as conn:
                current = old if held else self._run_in(conn, local_id)
                if current != old:  # another process wrote since the read above
                    old, again = current, _reapplied(current, status, at, seen_at)
                    if again is None:
                        return old, False
                    new = again
                conn.execute(
                    """UPDATE runs SET state = ?, raw_state = ?, current_task = ?,
                       completed_tasks = ?, total_tasks = ?, result_json = ?, error = ?,
                       finished_at = ?, updated_at = ? WHERE local_id = ?""",
                    (
                        str(new.state),
                        new.raw_state,
                        new.current_task,
                        new.completed_tasks,
                        new.total_tasks,
                        result_to_json(new.result),
                        new.error,
                        new.finished_at,
                        at,
                        local_id,
                    ),
                )
                detail = new.error if new.error != old.error else None
                conn.execute(
                    "INSERT INTO state_changes (local_id, at, raw_state, state, current_task,"
                    " detail) VALUES (?, ?, ?, ?, ?, ?)",
                    (local_id, at, new.raw_state, str(new.state), new.current_task, detail),
                )
                return replace(new, updated_at=at), True  # the row as just written

    def set_flags(
        self,
        local_id: str,
        *,
        stalled: bool | None = None,
        offline_since: float | EllipsisType | None = ...,
        note: str | EllipsisType | None = ...,
    ) -> RunRecord:
        """Monitor flags; not states of the run, so no history row. `...` leaves a field."""
        sets: dict[str, Any] = {}
        if stalled is not None:
            sets["stalled"] = int(stalled)
        if offline_since is not ...:
            sets["offline_since"] = offline_since
        if note is not ...:
            sets["note"] = note
        with self._write() as conn:
            if sets:
                assignments = ", ".join(f"{name} = :{name}" for name in sets)
                conn.execute(
                    f"UPDATE runs SET {assignments} WHERE local_id = :local_id",
                    {**sets, "local_id": local_id},
                )
            return self._run_in(conn, local_id)

    # --- reading -----------------------------------------------------------------------------

    def find_by_kickoff_id(self, crew: str, kickoff_id: str) -> RunRecord | None:
        rows = self._read(
            "SELECT * FROM runs WHERE crew = ? AND kickoff_id = ?", (crew, kickoff_id)
        )
        return run_from_row(rows[0]) if rows else None

    def find_by_request_id(self, request_id: str) -> RunRecord | None:
        rows = self._read("SELECT * FROM runs WHERE request_id = ?", (request_id,))
        return run_from_row(rows[0]) if rows else None

    def list_runs(
        self,
        *,
        crew: str | None = None,
        states: Iterable[RunState] | None = None,
        since: float | None = None,
        limit: int | None = None,
        phases: Iterable[KickoffPhase] | None = None,
    ) -> list[RunRecord]:
        """Newest first."""
        where: list[str] = []
        params: list[Any] = []
        if phases is not None:
            wanted_phases = [str(p) for p in phases]
            where.append(
                f"phase IN ({', '.join('?' * len(wanted_phases))})" if wanted_phases else "0"
            )
            params.extend(wanted_phases)
        if crew is not None:
            where.append("crew = ?")
            params.append(crew)
        if states is not None:
            wanted = [str(s) for s in states]
            where.append(f"state IN ({', '.join('?' * len(wanted))})" if wanted else "0")
            params.extend(wanted)
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [run_from_row(r) for r in self._read(sql, params)]

    def unfinished(self) -> list[RunRecord]:
        """Accepted runs not yet final, plus INTENT rows (a crash left them), oldest first."""
        final = [str(s) for s in RunState if s.is_final]
        rows = self._read(
            f"""SELECT * FROM runs WHERE phase = ?
                OR (phase = ? AND state NOT IN ({", ".join("?" * len(final))}))
                ORDER BY created_at, rowid""",
            (str(KickoffPhase.INTENT), str(KickoffPhase.ACCEPTED), *final),
        )
        return [run_from_row(r) for r in rows]

    def history(self, local_id: str) -> list[StateChange]:
        rows = self._read("SELECT * FROM state_changes WHERE local_id = ? ORDER BY id", (local_id,))
        return [change_from_row(r) for r in rows]

    def phase_history(self, crew: str, *, runs: int = 20) -> list[tuple[float, list[StateChange]]]:
        """The crew's latest `runs` completed runs, oldest first: each one's creation time and
        state changes (the monitor learns its phase lengths from them). One query."""
        rows = self._read(
            """SELECT r.created_at AS created_at, s.* FROM state_changes s
               JOIN (SELECT local_id, created_at FROM runs WHERE crew = ? AND state = ?
                     ORDER BY created_at DESC LIMIT ?) r ON r.local_id = s.local_id
               ORDER BY r.created_at, s.local_id, s.id""",
            (crew, str(RunState.COMPLETED), int(runs)),
        )
        out: list[tuple[float, list[StateChange]]] = []
        last: str | None = None
        for row in rows:
            if row["local_id"] != last:
                last = row["local_id"]
                out.append((row["created_at"], []))
            out[-1][1].append(change_from_row(row))
        return out


def _observed(r: RunRecord) -> tuple[Any, ...]:
    return (
        r.state,
        r.raw_state,
        r.current_task,
        r.completed_tasks,
        r.total_tasks,
        r.result,
        r.error,
    )


# A run seen final within this many seconds of a look that saw it unfinished ended at that
# observation, near enough. Seen final after a longer gap (it ended while no crewdash watched,
# or while its crew was unreachable), its end is unknown unless the server says how long it took.
END_WINDOW = 60.0


def _finished_at(
    old: RunRecord, status: RunStatus, at: float, seen_at: float | None
) -> float | None:
    """When a run seen final at `at` ended: the kickoff plus the server's `execution_time` when
    it sends one (never after `at`); else `at` if the run was seen unfinished shortly before;
    else None (unknown: a re-attached run must not take the re-attach as its end)."""
    took = status.execution_time
    if took is not None and math.isfinite(took) and took >= 0:
        return min(at, old.created_at + took)
    last_seen = max(old.updated_at, seen_at if seen_at is not None else old.updated_at)
    return at if at - last_seen <= END_WINDOW else None


def _reapplied(
    current: RunRecord, status: RunStatus, at: float, seen_at: float | None
) -> RunRecord | None:
    """`status` applied to the row another process wrote after this one read it (issue 14);
    None when that changes nothing, or would take a finished run back (the other process saw
    a later status than this one)."""
    if current.is_final and not status.state.is_final:
        return None
    new = _apply_status(current, status, at, seen_at)
    return None if _observed(new) == _observed(current) else new


def _apply_status(
    old: RunRecord, status: RunStatus, at: float, seen_at: float | None = None
) -> RunRecord:
    # Progress the server stops sending (a finished run often omits it) is kept, not erased.
    done = status.progress.completed_tasks if status.progress else old.completed_tasks
    total = status.progress.total_tasks if status.progress else old.total_tasks
    tasks = status.result.tasks if status.result is not None else ()
    if status.state is RunState.COMPLETED:
        # A completed run did all its tasks, whatever the last poll while it ran said; its
        # result, when it lists them, tells how many there were.
        if tasks and (total is None or len(tasks) > total):
            total = len(tasks)
        if total is not None:
            done = total
    finished_at = old.finished_at
    if status.state.is_final and finished_at is None:
        finished_at = _finished_at(old, status, at, seen_at)
    return replace(
        old,
        state=status.state,
        raw_state=status.raw_state,
        current_task=status.current_task,
        completed_tasks=done,
        total_tasks=total,
        result=old.result if old.result is not None else status.result,
        error=old.error if old.error is not None else status.error,
        finished_at=finished_at,
    )
