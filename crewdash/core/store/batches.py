"""Batch rows: which run a batch's row started, so a resumed batch never starts a row twice."""

from __future__ import annotations

import sqlite3

from crewdash.core.store.base import StoreBase


def record_batch_row_in(
    conn: sqlite3.Connection, batch_key: str, row_key: str, local_id: str, at: float
) -> None:
    """Map a row to its run inside the caller's transaction (the intent's, at a kickoff)."""
    conn.execute(
        "INSERT INTO batch_rows (batch_key, row_key, local_id, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(batch_key, row_key) DO UPDATE SET local_id = excluded.local_id, "
        "at = excluded.at",
        (batch_key, row_key, local_id, at),
    )


class BatchesMixin(StoreBase):
    """`RunStore`'s batch rows (see the module docstring)."""

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
            record_batch_row_in(conn, batch_key, row_key, local_id, self._now())

    def batch_rows(self, batch_key: str) -> dict[str, str]:
        rows = self._read(
            "SELECT row_key, local_id FROM batch_rows WHERE batch_key = ? ORDER BY rowid",
            (batch_key,),
        )
        return {r["row_key"]: r["local_id"] for r in rows}
