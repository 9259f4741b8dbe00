"""Per-crew trends for the dashboard, read from the run store off the UI thread and throttled:
a burst of run changes costs one read, at most one every `interval` seconds; the hour
rolling over costs one more (the buckets move). Without a store (no engine yet) nothing."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
HOUR = 3600.0


class TrendsFeed(Generic[T]):
    """`compute(store, now)` in a worker thread when asked (`request`), its result handed to
    `deliver` on the UI loop. `node` is the screen or widget whose workers and timers run it."""

    def __init__(
        self,
        node: Any,
        compute: Callable[[Any, float], T],
        deliver: Callable[[T], None],
        *,
        interval: float = 2.0,
    ) -> None:
        self._node = node
        self._compute = compute
        self._deliver = deliver
        self.interval = interval
        self._busy = False
        self._again = False
        self._last = -math.inf
        self._timer: Any = None
        self._rollover: Any = None
        self.loads = 0  # how many reads were made (tests count them)

    def request(self) -> None:
        """Read again soon: now if the last read was long enough ago, else once later."""
        if self._busy:
            self._again = True
            return
        if self._timer is not None:
            return
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            self._timer = self._node.set_timer(wait, self._fire, name="trends")
        else:
            self._start()

    def _fire(self) -> None:
        """The throttle's wait is over: read now (or after the read under way)."""
        self._timer = None
        if self._busy:
            self._again = True
        else:
            self._start()

    def _start(self) -> None:
        app = self._node.app
        store = getattr(app.engine, "store", None)
        if store is None:
            return
        self._busy = True
        self._last = time.monotonic()
        self._node.run_worker(
            self._load(store, app.now()), name="trends", group="trends", exit_on_error=False
        )

    async def _load(self, store: Any, now: float) -> None:
        import sqlite3

        from crewdash.core.store.errors import StoreError

        try:
            result = await asyncio.to_thread(self._compute, store, now)
        except (StoreError, sqlite3.Error) as exc:  # the store closed as the app ends
            log.info("trends not read: %s", exc)
            return
        finally:
            self._busy = False
            self.loads += 1
        self._deliver(result)
        self._next_hour(now)
        if self._again:
            self._again = False
            self.request()

    def _next_hour(self, now: float) -> None:
        """One more read just after the hour turns: the buckets move on even if nothing runs."""
        if self._rollover is not None:
            self._rollover.stop()
        wait = (math.floor(now / HOUR) + 1) * HOUR - now + 1.0
        self._rollover = self._node.set_timer(wait, self.request, name="trends hour")


def crew_pane_feed(screen: Any) -> TrendsFeed[Any]:
    """The feed of the main screen's crew pane: every crew's last 24 h."""

    def compute(store: Any, now: float) -> Any:
        from crewdash.core.monitor.trends import all_crew_trends

        crews = list(screen.app.engine.config.crews)
        return all_crew_trends(store, now - 24 * HOUR, now, crews)

    return TrendsFeed(screen, compute, lambda trends: screen.crews.set_trends(trends))


def moves_trends(event: Any, *, outcomes: bool) -> bool:
    """Whether engine `event` may change the trends: a run started (or its row is new to
    us); with `outcomes`, also a run ending and a request answered. Progress of a running
    run changes none of them, so it costs no read."""
    from crewdash.core import models  # records are built on first use (after the first frame)

    if isinstance(event, models.RunChanged):
        before, run = event.previous, event.run
        if before is None or before.phase != run.phase or before.crew != run.crew:
            return True
        return outcomes and (before.state != run.state or before.finished_at != run.finished_at)
    return outcomes and isinstance(event, models.InboxChanged)
