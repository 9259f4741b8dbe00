"""Human-input requests: one row per pause, whichever channel reported it (polling, the crew
or task webhook, the signed flow webhook), placed and merged atomically so processes sharing
the store never file one pause twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from crewdash.core.models import HumanRequest
from crewdash.core.store.base import StoreBase
from crewdash.core.store.rows import REQUEST_COLUMNS, request_from_row, request_to_params


class RequestsMixin(StoreBase):
    """`RunStore`'s human-input requests (see the module docstring)."""

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
