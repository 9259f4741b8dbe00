"""What other processes sharing the store wrote, read cheaply, and who polls which run.

- `data_version()`: SQLite's `PRAGMA data_version` on this connection. It changes only when
  ANOTHER connection committed, so an idle check costs one pragma and no table read.
- `changes_since(seq)`: the change log (schema `_change_log`): one row per run, request or
  run watch changed, numbered in commit order by the database itself, never by a process's
  clock (clocks of processes differ; a sequence does not).
- `claim_watch` / `release_watch`: the `run_watchers` rows. A run is polled by one live
  process; "live" is the flock of that process's lease (crewdash.core.runs.lease): the kernel
  drops it when the process dies, so there is no heartbeat to miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from crewdash.core.runs.lease import owner_alive, owners_dir
from crewdash.core.store.base import StoreBase


class Change(NamedTuple):
    seq: int
    kind: str  # "run", "request" or "watch"
    key: str  # a run's local id, a request's id


class ChangesMixin(StoreBase):
    """The change log and the run watchers (see the module docstring)."""

    def data_version(self) -> int:
        with self._lock:
            return int(self._db().execute("PRAGMA data_version").fetchone()[0])

    def change_mark(self) -> int:
        """The newest change's number (0: none yet): changes after it are news."""
        rows = self._read("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1")
        return int(rows[0]["seq"]) if rows else 0

    def changes_since(self, seq: int) -> list[Change]:
        rows = self._read("SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq", (seq,))
        return [Change(int(r["seq"]), str(r["kind"]), str(r["key"])) for r in rows]

    def owner_alive(self, owner: str) -> bool:
        """Is the process holding lease `owner` running? (Ours is.)"""
        return owner_alive(owners_dir(self.path), owner, own=self.owner)

    def claim_watch(self, local_id: str) -> str | None:
        """Become the process that polls `local_id`, unless a live other process is: then
        its lease id is returned and nothing changes. None: ours now. The read and the write
        are one transaction, so two processes claiming at once never both win."""
        me = self.owner
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner FROM run_watchers WHERE local_id = ?", (local_id,)
            ).fetchone()
            if row is not None:
                holder = str(row["owner"])
                if holder == me:
                    return None
                if self.owner_alive(holder):
                    return holder
            conn.execute(
                "INSERT INTO run_watchers (local_id, owner, since) VALUES (?, ?, ?)"
                " ON CONFLICT(local_id) DO UPDATE SET owner = excluded.owner,"
                " since = excluded.since",
                (local_id, me, self._now()),
            )
        return None

    def release_watch(self, local_ids: Iterable[str] | None = None) -> None:
        """This process no longer polls these runs (None: any run), so another may."""
        if self._conn is None:
            return
        me = self.owner
        with self._write() as conn:
            if local_ids is None:
                conn.execute("DELETE FROM run_watchers WHERE owner = ?", (me,))
            else:
                conn.executemany(
                    "DELETE FROM run_watchers WHERE local_id = ? AND owner = ?",
                    [(local_id, me) for local_id in local_ids],
                )

    def watcher(self, local_id: str) -> str | None:
        """The lease id of the process that claimed `local_id` (alive or not), if any."""
        rows = self._read("SELECT owner FROM run_watchers WHERE local_id = ?", (local_id,))
        return str(rows[0]["owner"]) if rows else None
