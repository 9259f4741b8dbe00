"""What every part of the run store shares: the one connection and its lock, the write
transaction, reads, the clock, this process's lease, and the audit helpers.

`RunStore` (crewdash.core.store.database) is `StoreBase` plus one mixin per concern; each
mixin subclasses `StoreBase`, so the attributes it uses are declared once, here."""

from __future__ import annotations

import getpass
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crewdash.core.audit import UNSPECIFIED
from crewdash.core.models import RunRecord
from crewdash.core.runs.lease import Lease, owners_dir
from crewdash.core.store.errors import StoreError
from crewdash.core.store.rows import run_from_row


def local_user() -> str:
    """Who answers, for the audit trail: the local login name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (some containers)
        return os.environ.get("USER") or "unknown"


def new_local_id() -> str:
    return uuid.uuid4().hex[:16]


class StoreBase:
    """The store's shared state and plumbing (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, now: Callable[[], float]) -> None:
        self._conn: sqlite3.Connection | None = conn  # None once closed
        self._lock = threading.RLock()
        self._now = now
        self.path = path
        self._lease = Lease(owners_dir(path))
        self._batching = False  # inside batch(): writes are savepoints of its transaction
        # the front end this process writes for, stamped on every audit row (core/audit.py)
        self.channel = UNSPECIFIED

    @property
    def owner(self) -> str:
        """This process's lease id (taken on first use): rows it is sending carry it."""
        with self._lock:
            return self._lease.acquire()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the run store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._db()
            if self._batching:  # one step of a batch: undone alone if it fails
                if not conn.in_transaction:  # the batch's first write begins it
                    conn.execute("BEGIN IMMEDIATE")
                conn.execute("SAVEPOINT step")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO step")
                    conn.execute("RELEASE step")
                    raise
                conn.execute("RELEASE step")
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _write_lock_held(self) -> bool:
        """Whether this connection holds the database's write lock: every transaction here
        begins IMMEDIATE (`_write`), so one that is open (a batch's, after its first write)
        has it, and no other process can write until it ends."""
        with self._lock:
            return self._db().in_transaction

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside in one transaction: one commit (one fsync at FULL) instead of one
        each; no SQL at all if nothing inside writes. Nothing inside is on disk before the
        block ends, so nothing written inside may be shown before then (the monitor holds its
        events until after). A write failing inside is undone alone; an exception out of the
        block undoes them all."""
        with self._lock:
            if self._batching:
                yield
                return
            conn = self._db()
            self._batching = True
            try:
                yield
            except BaseException:
                self._batching = False
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._batching = False
            if conn.in_transaction:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    def _read(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db().execute(sql, params).fetchall()

    def _run_in(self, conn: sqlite3.Connection, local_id: str) -> RunRecord:
        row = conn.execute("SELECT * FROM runs WHERE local_id = ?", (local_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run with local id {local_id!r}")
        return run_from_row(row)

    def get(self, local_id: str) -> RunRecord | None:
        rows = self._read("SELECT * FROM runs WHERE local_id = ?", (local_id,))
        return run_from_row(rows[0]) if rows else None
