"""The durable run store: one SQLite file in the data dir.

- WAL mode, `synchronous=FULL`: every commit fsyncs the WAL before the call returns, so a
  kickoff id, a result or a human decision is on disk (not just in the page cache) when the
  caller goes on to show it. Measured cost: see tests/benchmarks/test_store_bench.py.
- One writer: a single connection guarded by a lock (`check_same_thread=False`, the engine may
  call from a worker thread); writes take `BEGIN IMMEDIATE` so another process waits on the
  busy timeout instead of failing half-way.
- Tokens are never passed in, so never stored: webhook URLs are, a human-input token is not.

`RunStore` is opened and closed here; what it stores is split by concern, one mixin a module:
kickoffs.py (the intent → send → id protocol), runs.py (observations, actions, reads),
requests.py (human-input requests), decisions.py (the audit trail and answer claims),
batches.py (batch rows), changes.py (what other processes wrote; who polls a run),
audit.py (the audit trail: every decision and action, who, channel, server's answer);
events.py (a run's step, task and crew webhooks);
crew_hours.py (per-crew hourly buckets, for trends);
base.py holds the connection, lock and transactions they share.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from crewdash.core.audit import UNSPECIFIED
from crewdash.core.store.audit import AuditMixin
from crewdash.core.store.base import StoreBase
from crewdash.core.store.base import local_user as local_user
from crewdash.core.store.base import new_local_id as new_local_id
from crewdash.core.store.batches import BatchesMixin
from crewdash.core.store.changes import ChangesMixin
from crewdash.core.store.crew_hours import CrewHoursMixin
from crewdash.core.store.decisions import DecisionsMixin
from crewdash.core.store.errors import PhaseConflict as PhaseConflict
from crewdash.core.store.errors import StoreError as StoreError
from crewdash.core.store.errors import StoreOpenError as StoreOpenError
from crewdash.core.store.errors import open_error
from crewdash.core.store.events import RunEventsMixin
from crewdash.core.store.kickoffs import KickoffsMixin
from crewdash.core.store.requests import RequestsMixin
from crewdash.core.store.runs import RunsMixin
from crewdash.core.store.schema import migrate

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

STORE_FILENAME = "runs.sqlite3"

_T = TypeVar("_T")


def store_path(data_dir: Path) -> Path:
    """Where the store lives in a data dir (see `crewdash.core.config.load.resolve_data_dir`)."""
    return Path(data_dir) / STORE_FILENAME


def _with_busy_retry(work: Callable[[], _T], budget: float) -> _T:
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


def _checked_dir(path: Path) -> None:
    """The data directory exists (created if need be) and `path` is not a directory or the
    like; StoreOpenError saying what to do otherwise."""
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
            f"{path}: not a file, so not a run store; move it away or choose another --data-dir",
            path,
        )


def _set_up(
    conn: sqlite3.Connection, path: Path, synchronous: Synchronous, busy_timeout: float
) -> None:
    """WAL, the durability level and foreign keys on a new connection; then the migrations."""
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


class RunStore(
    KickoffsMixin,
    RunsMixin,
    RequestsMixin,
    DecisionsMixin,
    BatchesMixin,
    ChangesMixin,
    AuditMixin,
    RunEventsMixin,
    CrewHoursMixin,
    StoreBase,
):
    """See the module docstring. Open with `RunStore.open(path)`; `close()` when done."""

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        synchronous: Synchronous = "FULL",
        now: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
        channel: str = UNSPECIFIED,
    ) -> RunStore:
        """Open (creating and migrating as needed) the store at `path`. Several processes
        may open a new store at once. StoreOpenError, naming the path and what to do, when
        the file is not a store, or the file or its directory cannot be written. `channel`:
        the front end every audit row written through this store names (core/audit.py)."""
        path = Path(path)
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"bad synchronous level {synchronous!r}")
        _checked_dir(path)
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as exc:
            raise open_error(path, exc) from None
        conn.row_factory = sqlite3.Row
        try:
            _set_up(conn, path, synchronous, busy_timeout)
        except sqlite3.Error as exc:
            conn.close()
            raise open_error(path, exc) from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, path, now)
        store.channel = channel
        return store

    def close(self) -> None:
        with self._lock:
            self._lease.release()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- meta: small settings kept with the runs (a crew's status route, its last inputs) ----

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
