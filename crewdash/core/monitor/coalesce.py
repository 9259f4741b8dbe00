"""A wake-up's polls take along the loose polls due soon (`MonitorSettings.coalesce`).

An idle dashboard's engine spent most of its CPU per poll on what surrounds it: each poll of
a run stretching in a phase nothing is known of woke the loop, opened its own transaction and
took its own turns of the loop. Sent with polls that go anyway, several share them. Only loose
polls move, and only earlier (`Planner.may_join`), so no change is seen later.
"""

from __future__ import annotations

import functools

from crewdash.core.monitor.schedule import Entry
from crewdash.core.monitor.tick import StoredInTicks
from crewdash.core.monitor.tracking import TrackedCrew, TrackedRun


class Coalescing(StoredInTicks):
    """The monitor's side of coalescing: `_take_along` after a dispatch that sent polls."""

    _in_flight: int

    def _launch(self, run: TrackedRun, crew: TrackedCrew, now: float) -> None:
        raise NotImplementedError

    def _take_along(self, now: float) -> None:
        """Polls went out at `now`: send with them the loose ones due within the window."""
        if self._settings.coalesce > 0:
            self._heap.offer(now + self._settings.coalesce, functools.partial(self._join, now))

    def _join(self, now: float, entry: Entry) -> bool | None:
        """Send `entry`'s poll now if it may go early; True if it leaves the heap (sent, or
        stale: its run re-planned, gone or in flight); None once no slot is left to take."""
        if self._in_flight + 1 >= self.cap:  # one slot stays free for a poll due on time
            return None
        run = self._runs.get(entry.local_id)
        if run is None or run.gen != entry.gen or run.in_flight:
            return True
        crew = self._crews[run.record.crew]
        if (
            crew.health.rejected
            or crew.rate.learnt_rate is not None  # under a limit every request counts
            or not self._planner.may_join(
                run, crew.phases, crew.config, now, entry.due, run.waiting
            )
            or crew.rate.admit(now) > 0
        ):
            return False
        self._launch(run, crew, now)
        return True
