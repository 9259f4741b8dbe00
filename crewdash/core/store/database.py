"""The durable run store: one SQLite file in the data dir.

- WAL mode, `synchronous=FULL`: every commit fsyncs the WAL before the call returns, so a
  kickoff id, a result or a human decision is on disk (not just in the page cache) when the
  caller goes on to show it. Measured cost: see tests/benchmarks/test_store_bench.py.
- One writer: a single connection guarded by a lock (`check_same_thread=False`, the engine may
  call from a worker thread); writes take `BEGIN IMMEDIATE` so another process waits on the
  busy timeout instead of failing half-way.
- Tokens are never passed in, so never stored: webhook URLs are, a human-input token is not.
"""

from __future__ import annotations

import getpass
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import EllipsisType
from typing import Any, Literal

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.models import (
    AnswerOutcome,
    Decision,
    DecisionRecord,
    HumanRequest,
    KickoffPhase,
    RunRecord,
    StateChange,
)
from crewdash.core.runs.lease import Lease, owner_alive, owners_dir
from crewdash.core.store.rows import (
    REQUEST_COLUMNS,
    change_from_row,
    decision_from_row,
    decision_record_from_row,
    dumps,
    request_from_row,
    request_to_params,
    result_to_json,
    run_from_row,
)
from crewdash.core.store.schema import migrate

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

STORE_FILENAME = "runs.sqlite3"


def store_path(data_dir: Path) -> Path:
    """Where the store lives in a data dir (see `crewdash.core.config.load.resolve_data_dir`)."""
    return Path(data_dir) / STORE_FILENAME


class StoreError(RuntimeError):
    """A store operation that cannot be done (unknown run, closed store)."""


class StoreOpenError(StoreError):
    """The store cannot be opened: `path` and what to do are in the message."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class PhaseConflict(StoreError):
    """A compare-and-set found the run in another phase (or another process's hands)."""

    def __init__(self, current: RunRecord, expected: tuple[KickoffPhase, ...]) -> None:
        wanted = " or ".join(str(p) for p in expected)
        super().__init__(
            f"run {current.local_id} is {current.phase}"
            + (f" (sent by process {current.owner.split('-')[0]})" if current.owner else "")
            + f", not {wanted}"
        )
        self.current = current
        self.expected = expected


def _open_error(path: Path, exc: sqlite3.Error) -> StoreOpenError:
    text = str(exc)
    low = text.lower()
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        what = "not a crewdash run store (not an SQLite database, or damaged)"
        todo = "move it away or choose another --data-dir"
    elif "readonly" in low or "read-only" in low or "unable to open" in low:
        what = "the run store cannot be written (a read-only file or directory)"
        todo = "make it and its directory writable, or choose another --data-dir"
    elif "locked" in low or "busy" in low:
        what = "the run store is locked by another process for too long"
        todo = "try again in a moment"
    else:
        what = f"the run store cannot be opened ({text})"
        todo = "check the file, or choose another --data-dir"
    return StoreOpenError(f"{path}: {what}; {todo}", path)


def _with_busy_retry(work: Callable[[], Any], budget: float) -> Any:
    """Run `work`, again while SQLite says "locked"/"busy" (another process creating or
    migrating the same new file; switching a new file to WAL does not wait on the busy
    handler), for up to `budget` seconds."""
    deadline = time.monotonic() + budget
    delay = 0.005
    while True:
        try:
            return work()
        except sqlite3.OperationalError as exc:
            low = str(exc).lower()
            if ("locked" not in low and "busy" not in low) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(0.1, delay * 2)


def _alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a claim's owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def local_user() -> str:
    """Who answers, for the audit trail: the local login name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (some containers)
        return os.environ.get("USER") or "unknown"


def new_local_id() -> str:
    return uuid.uuid4().hex[:16]


class RunStore:
    """See the module docstring. Open with `RunStore.open(path)`; `close()` when done."""

    def __init__(self, conn: sqlite3.Connection, path: Path, now: Callable[[], float]) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._now = now
        self.path = path
        self._lease = Lease(owners_dir(path))

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        synchronous: Synchronous = "FULL",
        now: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
    ) -> RunStore:
        """Open (creating and migrating as needed) the store at `path`. Several processes
        may open a new store at once. StoreOpenError, naming the path and what to do, when
        the file is not a store, or the file or its directory cannot be written."""
        path = Path(path)
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"bad synchronous level {synchronous!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreOpenError(
                f"{path.parent}: cannot create the data directory ({exc.strerror or exc}); "
                "make it writable or choose another with --data-dir",
                path,
            ) from None
        if path.exists() and not path.is_file():
            raise StoreOpenError(
                f"{path}: not a file, so not a run store; move it away or choose another "
                "--data-dir",
                path,
            )
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from None
        conn.row_factory = sqlite3.Row
        try:
            mode = _with_busy_retry(
                lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0], busy_timeout
            )
            if str(mode).lower() != "wal":
                raise StoreOpenError(
                    f"{path}: SQLite refused WAL mode (got {mode!r}); is the data directory "
                    "writable? choose another with --data-dir",
                    path,
                )
            conn.execute(f"PRAGMA synchronous={synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            _with_busy_retry(lambda: migrate(conn), busy_timeout)
        except sqlite3.Error as exc:
            conn.close()
            raise _open_error(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, now)

    def close(self) -> None:
        with self._lock:
            self._lease.release()
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the run store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db().execute(sql, params).fetchall()

    def _run_in(self, conn: sqlite3.Connection, local_id: str) -> RunRecord:
        row = conn.execute("SELECT * FROM runs WHERE local_id = ?", (local_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run with local id {local_id!r}")
        return run_from_row(row)

    # --- runs: the kickoff protocol ----------------------------------------------------------

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
                self._record_batch_row_in(conn, batch_row[0], batch_row[1], local_id, at)
            return self._run_in(conn, local_id)

    @property
    def owner(self) -> str:
        """This process's lease id (taken on first use): rows it is sending carry it."""
        with self._lock:
            return self._lease.acquire()

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

    def mark_accepted(
        self, local_id: str, kickoff_id: str, *, at: float | None = None
    ) -> RunRecord:
        """The server's kickoff id. From INTENT (the answer), or from UNKNOWN (a late
        answer, an adoption): the id is the truth whatever was believed before."""
        at = self._now() if at is None else at
        with self._write() as conn:
            return self._transition(
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
    ) -> RunRecord:
        """No run exists: the server refused, or nothing was sent."""
        return self._mark_failed(local_id, KickoffPhase.REFUSED, error, at, expect)

    def mark_unknown(
        self,
        local_id: str,
        reason: str,
        *,
        at: float | None = None,
        expect: Iterable[KickoffPhase] = (KickoffPhase.INTENT,),
    ) -> RunRecord:
        """The request may have started a run: only the operator (or a webhook) can tell.
        Not finished: no `finished_at`."""
        return self._mark_failed(local_id, KickoffPhase.UNKNOWN, reason, at, expect)

    def _mark_failed(
        self,
        local_id: str,
        phase: KickoffPhase,
        text: str,
        at: float | None,
        expect: Iterable[KickoffPhase],
    ) -> RunRecord:
        at = self._now() if at is None else at
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

    # --- runs: the operator's actions (audit trail) ----------------------------------------

    def record_action(
        self, local_id: str, action: str, detail: str = "", *, user: str | None = None
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO run_actions (local_id, at, user, action, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (local_id, self._now(), user or local_user(), action, detail),
            )

    def actions(self, local_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT at, user, action, detail FROM run_actions WHERE local_id = ? ORDER BY id",
            (local_id,),
        )
        return [dict(r) for r in rows]

    # --- runs: observations ----------------------------------------------------------------

    def record_status(
        self, local_id: str, status: RunStatus, at: float, *, seen_at: float | None = None
    ) -> tuple[RunRecord, bool]:
        """Apply one observation made at `at`. Writes only when something changed; a
        StateChange row is added for every change. The final result and error are stored once,
        never replaced. `seen_at`: when the caller last saw the run unfinished, if later than
        the record's `updated_at` (a poller that saw nothing change); it dates the run's end
        when the server does not (see `_finished_at`)."""
        with self._lock:
            old = self._run_in(self._db(), local_id)
            new = _apply_status(old, status, at, seen_at)
            if _observed(new) == _observed(old):
                return old, False
            with self._write() as conn:
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
                return self._run_in(conn, local_id), True

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

    # --- runs: reading ---------------------------------------------------------------------

    def get(self, local_id: str) -> RunRecord | None:
        rows = self._read("SELECT * FROM runs WHERE local_id = ?", (local_id,))
        return run_from_row(rows[0]) if rows else None

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

    # --- human-input requests and the decision audit trail --------------------------------

    def upsert_request(self, req: HumanRequest) -> tuple[HumanRequest, bool]:
        """Insert a request, or merge a later sighting with the same id into it
        (`HumanRequest.enriched`). Returns (stored, is_new)."""
        with self._write() as conn:
            row = conn.execute("SELECT * FROM human_requests WHERE id = ?", (req.id,)).fetchone()
            if row is None:
                self._insert_request(conn, req)
                return req, True
            old = request_from_row(row)
            merged = old.enriched(req)
            if merged != old:
                self._update_request(conn, merged)
            return merged, False

    def place_request(
        self,
        kickoff_id: str | None,
        flow_request_id: str | None,
        decide: Callable[[list[HumanRequest]], HumanRequest | None],
    ) -> tuple[HumanRequest | None, bool, bool]:
        """One sighting of a pause, placed atomically (another crewdash process may report the
        same pause at the same moment): `decide` gets every request of `kickoff_id` and any
        with `flow_request_id` (as its flow request id or its id), and returns the row to
        write — one of them enriched, or a new one — or None to write nothing. Returns
        (stored, is_new, changed)."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT * FROM human_requests WHERE kickoff_id = :kickoff"
                " OR flow_request_id = :flow OR id = :flow ORDER BY received_at, rowid",
                {"kickoff": kickoff_id, "flow": flow_request_id},
            ).fetchall()
            known = {r.id: r for r in map(request_from_row, rows)}
            chosen = decide(list(known.values()))
            if chosen is None:
                return None, False, False
            old = known.get(chosen.id)
            if old is None:
                self._insert_request(conn, chosen)
                return chosen, True, True
            if chosen != old:
                self._update_request(conn, chosen)
            return chosen, False, chosen != old

    @staticmethod
    def _insert_request(conn: sqlite3.Connection, req: HumanRequest) -> None:
        conn.execute(
            f"INSERT INTO human_requests ({', '.join(REQUEST_COLUMNS)}) "
            f"VALUES ({', '.join(':' + c for c in REQUEST_COLUMNS)})",
            request_to_params(req),
        )

    @staticmethod
    def _update_request(conn: sqlite3.Connection, req: HumanRequest) -> None:
        conn.execute(
            "UPDATE human_requests SET "
            + ", ".join(f"{c} = :{c}" for c in REQUEST_COLUMNS if c not in ("id", "answered"))
            + " WHERE id = :id",
            request_to_params(req),
        )

    def get_request(self, request_id: str) -> HumanRequest | None:
        rows = self._read("SELECT * FROM human_requests WHERE id = ?", (request_id,))
        return request_from_row(rows[0]) if rows else None

    def pending_requests(self) -> list[HumanRequest]:
        rows = self._read(
            "SELECT * FROM human_requests WHERE answered IS NULL ORDER BY received_at, rowid"
        )
        return [request_from_row(r) for r in rows]

    def requests_of(self, crew: str, kickoff_id: str) -> list[HumanRequest]:
        """Every request of one run, answered or not, oldest first."""
        rows = self._read(
            "SELECT * FROM human_requests WHERE crew = ? AND kickoff_id = ?"
            " ORDER BY received_at, rowid",
            (crew, kickoff_id),
        )
        return [request_from_row(r) for r in rows]

    def pending_requests_of(self, crew: str, kickoff_id: str) -> list[HumanRequest]:
        """The requests of one run still waiting, oldest first."""
        rows = self._read(
            "SELECT * FROM human_requests WHERE answered IS NULL AND crew = ? AND kickoff_id = ?"
            " ORDER BY received_at, rowid",
            (crew, kickoff_id),
        )
        return [request_from_row(r) for r in rows]

    def record_decision(self, decision: Decision, channel: str) -> int:
        """Write the operator's answer before it is sent; outcome PENDING. Returns its id."""
        user = decision.user or local_user()
        at = decision.at or self._now()
        with self._write() as conn:
            cur = conn.execute(
                """INSERT INTO decisions (request_id, user, at, feedback, approve, choice,
                   channel, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    decision.request_id,
                    user,
                    at,
                    decision.feedback,
                    None if decision.approve is None else int(decision.approve),
                    decision.outcome,
                    channel,
                    str(AnswerOutcome.PENDING),
                ),
            )
            return int(cur.lastrowid or 0)

    # --- one answer per request: claims (store_schema._answer_claims) -------------------------

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
            claim = conn.execute(
                "SELECT * FROM answer_claims WHERE request_id = ?", (decision.request_id,)
            ).fetchone()
            if claim is not None and claim["host"] == host and not _alive(claim["pid"]):
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
                conn.execute(
                    "DELETE FROM answer_claims WHERE request_id = ?", (claim["request_id"],)
                )
                claim = None
            winner_id: int | None = claim["decision_id"] if claim is not None else None
            if winner_id is None and request is not None and request["answered"] is not None:
                row = conn.execute(
                    "SELECT id FROM decisions WHERE request_id = ? AND outcome NOT IN (?, ?)"
                    " ORDER BY id DESC LIMIT 1",
                    (decision.request_id, str(AnswerOutcome.FAILED), str(AnswerOutcome.PENDING)),
                ).fetchone()
                winner_id = row["id"] if row is not None else None
            winner = self._decision_in(conn, winner_id) if winner_id is not None else None
            taken = winner is not None or (request is not None and request["answered"] is not None)
            note = (not_sent(winner) if winner else "not sent: already answered") if taken else None
            cur = conn.execute(
                """INSERT INTO decisions (request_id, user, at, feedback, approve, choice,
                   channel, outcome, server_answer, answered_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    decision.request_id,
                    user,
                    at,
                    decision.feedback,
                    None if decision.approve is None else int(decision.approve),
                    decision.outcome,
                    channel,
                    str(AnswerOutcome.ANSWERED_ELSEWHERE if taken else AnswerOutcome.PENDING),
                    note,
                    at if taken else None,
                ),
            )
            decision_id = int(cur.lastrowid or 0)
            if taken:
                return decision_id, winner or self._decision_in(conn, decision_id)
            conn.execute(
                "INSERT INTO answer_claims (request_id, decision_id, host, pid, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (decision.request_id, decision_id, host, os.getpid(), at),
            )
            return decision_id, None

    @staticmethod
    def _decision_in(conn: sqlite3.Connection, decision_id: int) -> DecisionRecord | None:
        row = conn.execute(
            """SELECT d.*, r.kickoff_id, r.task_id, r.attempt
               FROM decisions d LEFT JOIN human_requests r ON r.id = d.request_id
               WHERE d.id = ?""",
            (decision_id,),
        ).fetchone()
        return decision_record_from_row(row) if row is not None else None

    def decision(self, decision_id: int) -> DecisionRecord | None:
        with self._lock:
            return self._decision_in(self._db(), decision_id)

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
                   server_answer, answered_at) VALUES (?, ?, ?, '', ?, ?, ?, ?)""",
                (request_id, user, at, channel, str(outcome), note, at),
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

    # --- meta ------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- batches ---------------------------------------------------------------------------

    def batch_row_done(self, batch_key: str, row_key: str) -> str | None:
        """The local id of the run started for this row, if one was."""
        rows = self._read(
            "SELECT local_id FROM batch_rows WHERE batch_key = ? AND row_key = ?",
            (batch_key, row_key),
        )
        return rows[0]["local_id"] if rows else None

    def record_batch_row(self, batch_key: str, row_key: str, local_id: str) -> None:
        """Map a row to its run (replacing an earlier mapping, e.g. after a refused kickoff)."""
        with self._write() as conn:
            self._record_batch_row_in(conn, batch_key, row_key, local_id, self._now())

    def batch_rows(self, batch_key: str) -> dict[str, str]:
        rows = self._read(
            "SELECT row_key, local_id FROM batch_rows WHERE batch_key = ? ORDER BY rowid",
            (batch_key,),
        )
        return {r["row_key"]: r["local_id"] for r in rows}

    @staticmethod
    def _record_batch_row_in(
        conn: sqlite3.Connection, batch_key: str, row_key: str, local_id: str, at: float
    ) -> None:
        conn.execute(
            "INSERT INTO batch_rows (batch_key, row_key, local_id, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(batch_key, row_key) DO UPDATE SET local_id = excluded.local_id, "
            "at = excluded.at",
            (batch_key, row_key, local_id, at),
        )


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
