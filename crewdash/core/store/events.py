"""A run's event stream in the store (schema `_run_events`): the step, task and crew webhooks
received for it, as timeline entries (crewdash.core.runs.run_events), bounded per run."""

from __future__ import annotations

import sqlite3

from crewdash.aop.redact import redact
from crewdash.core.runs.run_events import KEEP_PER_RUN, EventKind, ParsedEvent, RunEvent
from crewdash.core.store.base import StoreBase


def _event_from_row(row: sqlite3.Row) -> RunEvent:
    kind = str(row["kind"])
    return RunEvent(
        id=int(row["id"]),
        local_id=str(row["local_id"]),
        at=float(row["at"]),
        received_at=float(row["received_at"]),
        kind=EventKind(kind) if kind in EventKind.__members__.values() else EventKind.UNKNOWN,
        summary=str(row["summary"]),
        raw=str(row["raw_json"]),
    )


class RunEventsMixin(StoreBase):
    """Add and read a run's events (see the module docstring)."""

    def add_run_event(
        self, local_id: str, event: ParsedEvent, *, keep: int = KEEP_PER_RUN
    ) -> RunEvent:
        """Keep one event of a run; in the same transaction, drop all but the newest `keep`
        of that run (by arrival), so a run never holds more however many events come. What
        is stored is redacted again here: no write path can store a token this process holds.
        """
        received = self._now()
        at = event.at if event.at is not None else received
        summary, raw = redact(event.summary), redact(event.raw)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO run_events (local_id, at, received_at, kind, summary, raw_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (local_id, at, received, event.kind.value, summary, raw),
            )
            conn.execute(
                "DELETE FROM run_events WHERE local_id = ? AND id <= ("
                " SELECT id FROM run_events WHERE local_id = ? ORDER BY id DESC"
                " LIMIT 1 OFFSET ?)",
                (local_id, local_id, max(1, keep)),
            )
            new_id = int(cursor.lastrowid or 0)
        return RunEvent(new_id, local_id, at, received, event.kind, summary, raw)

    def run_events(self, local_id: str, *, after: int = 0) -> list[RunEvent]:
        """The run's events, in the order they happened (the sender's time, then arrival);
        with `after`, only those that arrived after the event of that id."""
        rows = self._read(
            "SELECT * FROM run_events WHERE local_id = ? AND id > ? ORDER BY at, id",
            (local_id, after),
        )
        return [_event_from_row(row) for row in rows]

    def run_event_count(self, local_id: str) -> int:
        rows = self._read("SELECT COUNT(*) AS n FROM run_events WHERE local_id = ?", (local_id,))
        return int(rows[0]["n"])
