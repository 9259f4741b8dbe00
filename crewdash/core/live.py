"""One live truth (issue 14): what other crewdash processes write to the run store is
published by this engine as if it had written it, within one check period.

Every `period` (0.25 s) the feed asks SQLite's `PRAGMA data_version`, which changes only when
another connection committed: an idle check is that one pragma. When it moved, the feed reads
the change log after its watermark (crewdash.core.store.changes; numbered by the database in
commit order, never by a clock) and, for each run or request changed, reads that one row and
publishes `RunChanged` (`previous`: the row as this engine last published or saw it) or
`InboxChanged` unless it equals what this engine already published. No full reload.

Runs it learns of are handed to the `SharedMonitor`, which polls those no live process polls
and follows the others; once a second (`liveness_every`) it takes over the runs whose watcher
died. The feed is plain engine code on the engine's loop (no thread, no Textual).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from crewdash.core.events import EventBus
from crewdash.core.models import (
    Event,
    HumanRequest,
    InboxChanged,
    RunChanged,
    RunEventsAdded,
    RunRecord,
)
from crewdash.core.monitor.shared import SharedMonitor
from crewdash.core.store.changes import Change
from crewdash.core.timing import Clock

log = logging.getLogger(__name__)

PERIOD = 0.25  # seconds between looks: news shows within 1 s with room for a busy loop
LIVENESS_EVERY = 1.0  # seconds between checks that the watchers of followed runs are alive


class LiveStore(Protocol):
    """The run store, as far as the feed reads it."""

    def data_version(self) -> int: ...

    def change_mark(self) -> int: ...

    def changes_since(self, seq: int) -> list[Change]: ...

    def get(self, local_id: str) -> RunRecord | None: ...

    def get_request(self, request_id: str) -> HumanRequest | None: ...


class LiveFeed:
    """See the module docstring. `start()` inside the engine's loop; `check()` is one look."""

    def __init__(
        self,
        store: LiveStore,
        bus: EventBus,
        monitor: SharedMonitor,
        *,
        clock: Clock,
        period: float = PERIOD,
        liveness_every: float = LIVENESS_EVERY,
    ) -> None:
        self.store = store
        self.bus = bus
        self.monitor = monitor
        self.clock = clock
        self.period = period
        self.liveness_every = liveness_every
        self.checks = 0  # looks taken
        self.published = 0  # events published for other processes' writes
        self._runs: dict[str, RunRecord] = {}  # the newest row published, per run
        self._requests: dict[str, HumanRequest] = {}
        self._mark = 0
        self._version: int | None = None
        self._next_liveness = 0.0
        self._task: asyncio.Task[None] | None = None
        bus.subscribe(self._published)

    def _published(self, event: Event) -> None:
        """Whoever published it (the monitor, a kickoff, the inbox, this feed): the newest
        this engine has said, so the feed neither repeats it nor dates `previous` wrong."""
        if isinstance(event, RunChanged):
            self._runs[event.run.local_id] = event.run
        elif isinstance(event, InboxChanged):
            self._requests[event.request.id] = event.request

    # --- the loop --------------------------------------------------------------------------

    def mark(self) -> None:
        """From now on: what was committed before this is known (read by the engine's start)."""
        self._version = self.store.data_version()
        self._mark = self.store.change_mark()

    def start(self) -> None:
        if self._task is None:
            if self._version is None:
                self.mark()
            self._task = asyncio.create_task(self._loop(), name="crewdash-live")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(self.period)
            try:
                self.check()
            except Exception:
                # a locked or closing store must not end the feed: look again next period
                log.exception("reading what other crewdash processes wrote failed")

    def check(self) -> int:
        """One look: publish what other processes wrote since the last; take over the runs
        whose watcher died (at most once per `liveness_every`). The events published."""
        self.checks += 1
        published = 0
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            published = self._catch_up()
        if self.monitor.unclaimed:
            self.monitor.adopt(self.period)
        now = self.clock.monotonic()
        if now >= self._next_liveness:
            self._next_liveness = now + self.liveness_every
            self.monitor.take_over()
        return published

    def _catch_up(self) -> int:
        changes = self.store.changes_since(self._mark)
        if not changes:
            return 0
        self._mark = changes[-1].seq
        published = 0
        for change in changes:
            if change.kind == "run":
                published += self._run_news(change.key)
            elif change.kind == "request":
                published += self._request_news(change.key)
            elif change.kind == "watch":
                self.monitor.watch_changed(change.key)
            elif change.kind == "events":  # a run's webhooks another process received
                self.bus.publish(RunEventsAdded(change.key))
                published += 1
        self.published += published
        return published

    def _run_news(self, local_id: str) -> int:
        record = self.store.get(local_id)
        if record is None:
            return 0
        previous = self._runs.get(local_id)
        fresh = record != previous
        if fresh:
            self.bus.publish(RunChanged(record, previous))
        self.monitor.saw(record)
        return int(fresh)

    def _request_news(self, request_id: str) -> int:
        request = self.store.get_request(request_id)
        if request is None or request == self._requests.get(request_id):
            return 0
        self.bus.publish(InboxChanged(request))
        return 1


__all__ = ["LIVENESS_EVERY", "PERIOD", "LiveFeed", "LiveStore"]
