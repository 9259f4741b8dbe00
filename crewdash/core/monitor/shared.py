"""A monitor that shares the polling of a run store with the other crewdash processes on it.

A run is polled by one live process only (issue 14: two dashboards send no more status
requests than one). Before polling a run this monitor claims it (`WatchClaims.claim_watch`,
one transaction); a run another live process claimed first is *followed*: not polled here, its
changes come from the change feed (crewdash.core.live). When the watcher lets go (the run
ended, or it stopped watching) or dies (its lease's flock is gone, however it died), a
follower claims the run and polls it from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from crewdash.core.events import EventBus
from crewdash.core.models import RunRecord
from crewdash.core.monitor.poller import Monitor
from crewdash.core.monitor.ports import MonitorStore

log = logging.getLogger(__name__)


class WatchClaims(Protocol):
    """Who polls which run, across processes (the run store has these)."""

    def claim_watch(self, local_id: str) -> str | None:
        """None: ours to poll now; else the live process (lease id) that polls it."""
        ...

    def release_watch(self, local_ids: Iterable[str] | None = None) -> None:
        """Let go of these runs (None: of every run this process claimed)."""
        ...

    def owner_alive(self, owner: str) -> bool: ...


class SharedMonitor(Monitor):
    """`Monitor`, polling only the runs no other live process polls (module docstring).
    Without `claims` it is the plain monitor."""

    def __init__(
        self, store: MonitorStore, bus: EventBus, *, claims: WatchClaims | None, **kwargs: Any
    ) -> None:
        super().__init__(store, bus, **kwargs)
        self.claims = claims
        self.followed: dict[str, str] = {}  # local id -> the lease id of the process polling it
        # runs another process wrote that nobody claimed yet -> when seen (monotonic); the
        # process that started one claims it right after its kickoff id is written
        self.unclaimed: dict[str, float] = {}
        self._claimed = False  # ever won a claim: something to let go of at `stop`

    def _polls(self, record: RunRecord) -> bool:
        """Would `track` poll this run (and so need to claim it)?"""
        return (
            record.kickoff_id is not None
            and not record.is_final
            and self.has_crew(record.crew)
            and not self.is_rejected(record.crew)
            and record.local_id not in self._runs
        )

    def track(self, record: RunRecord, *, delay: float = 0.0) -> None:
        """Poll this run until it is final, unless another live process polls it: then
        follow it. Idempotent."""
        self.unclaimed.pop(record.local_id, None)
        if self.claims is not None and self._polls(record):
            try:
                holder = self.claims.claim_watch(record.local_id)
            except Exception:
                # Never lose a run to the claim: polling it twice is the lesser harm.
                log.exception("claiming run %s failed; polling it anyway", record.local_id)
                holder = None
            if holder is not None:
                self.followed[record.local_id] = holder
                return
            self.followed.pop(record.local_id, None)
            self._claimed = True
        super().track(record, delay=delay)

    def untrack(self, local_id: str) -> None:
        run = self._runs.get(local_id)
        super().untrack(local_id)
        # A run that ended needs no watcher, and its followers saw it end: its claim goes
        # with the others at `stop` (one write per run fewer).
        if run is not None and not run.record.is_final:
            self._release([local_id])

    async def stop(self) -> None:
        await super().stop()
        self._release(None)  # the others take over this process's runs at once

    def _release(self, local_ids: list[str] | None) -> None:
        if self.claims is None or not self._claimed or local_ids == []:
            return
        try:
            self.claims.release_watch(local_ids)
        except Exception:
            # the claim stays until this process exits: its lease ends it then
            log.exception("letting go of runs failed")

    # --- what another process did ----------------------------------------------------------

    def saw(self, record: RunRecord) -> None:
        """Another process wrote this run's row: keep the record polled here current, stop
        following a run that ended, and note a run nobody polls (say, one a `crewdash kickoff`
        started and left) for `adopt`."""
        run = self._runs.get(record.local_id)
        if run is not None:
            run.record = record
            if record.is_final:
                self.untrack(record.local_id)
        elif record.local_id in self.followed:
            if record.is_final:
                del self.followed[record.local_id]
        elif self._polls(record):
            self.unclaimed.setdefault(record.local_id, self.clock.monotonic())

    def adopt(self, grace: float) -> list[str]:
        """Claim the runs seen unclaimed at least `grace` seconds ago (the process that
        started one had that long to claim it); the ids now polled here."""
        now = self.clock.monotonic()
        due = [i for i, seen in self.unclaimed.items() if now - seen >= grace]
        for local_id in due:
            del self.unclaimed[local_id]
            record = self.store.get(local_id)
            if record is not None:
                self.track(record)
        return [i for i in due if i in self._runs]

    def watch_changed(self, local_id: str) -> None:
        """The claim on a run followed here changed (its watcher let go, or another took
        it): claim it again, which polls it here or follows the new watcher."""
        if self.followed.pop(local_id, None) is None:
            return
        record = self.store.get(local_id)
        if record is not None:
            self.track(record)

    def take_over(self) -> list[str]:
        """Claim every followed run whose watcher died; the ids now polled here. One flock
        try per watcher, however many runs it holds."""
        if self.claims is None or not self.followed:
            return []
        alive: dict[str, bool] = {}
        gone = []
        for local_id, holder in list(self.followed.items()):
            if holder not in alive:
                alive[holder] = self.claims.owner_alive(holder)
            if not alive[holder]:
                gone.append(local_id)
        taken = []
        for local_id in gone:
            self.watch_changed(local_id)
            if local_id in self._runs:
                taken.append(local_id)
        if taken:
            log.info("took over polling %d runs whose watcher has gone", len(taken))
        return taken


__all__ = ["SharedMonitor", "WatchClaims"]
