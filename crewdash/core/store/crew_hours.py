"""Reads of the hourly crew buckets (migration v8, crewdash.core.store.crew_hours_schema),
summed into buckets of whole hours by SQLite: one range scan of the window's hours."""

from __future__ import annotations

from typing import NamedTuple

from crewdash.core.store.base import StoreBase


class HourCounts(NamedTuple):
    """Runs of one crew in one bucket starting at `start` (Unix seconds, UTC-aligned)."""

    crew: str
    start: int
    started: int
    finished: int
    completed: int
    failed: int
    stopped: int


class HourBin(NamedTuple):
    """How many samples of `metric` ('run' durations, 'wait' for an answer) fell in `bin`."""

    crew: str
    start: int
    metric: str
    bin: int
    n: int


class CrewHoursMixin(StoreBase):
    """`RunStore`'s per-crew hourly buckets (see the module docstring)."""

    def hour_buckets(
        self, start: int, end: int, bucket: int, crew: str | None = None
    ) -> tuple[list[HourCounts], list[HourBin]]:
        """Counts and bins of the hours in [start, end), summed per `bucket` seconds (a
        multiple of 3600; buckets start at multiples of it); one crew or every crew."""
        params = {"start": start, "end": end, "bucket": bucket, "crew": crew}
        where = "hour >= :start AND hour < :end" + (" AND crew = :crew" if crew else "")
        with self._lock:
            conn = self._db()
            counts = conn.execute(
                "SELECT crew, hour - hour % :bucket AS b, SUM(started), SUM(finished),"
                f" SUM(completed), SUM(failed), SUM(stopped) FROM crew_hours WHERE {where}"
                " GROUP BY crew, b",
                params,
            ).fetchall()
            bins = conn.execute(
                "SELECT crew, hour - hour % :bucket AS b, metric, bin, SUM(n)"
                f" FROM crew_hour_bins WHERE {where} GROUP BY crew, b, metric, bin",
                params,
            ).fetchall()
        return [HourCounts(*row) for row in counts], [HourBin(*row) for row in bins]

    def has_crew(self, crew: str) -> bool:
        """Whether the store has any row of `crew` (a crew no longer configured still has
        trends)."""
        return bool(self._read("SELECT 1 FROM runs WHERE crew = ? LIMIT 1", (crew,)))
