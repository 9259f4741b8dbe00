"""Full garbage collections on the operator's time, not in the middle of a key press.

A full collection walks every object the dashboard holds. With 2,000 runs that is about 190k
objects and 90-130 ms on a small machine, and CPython starts one whenever enough objects
have survived: at a random moment while runs update. Measured on a pty: `/` took 17 ms at the
median and 177 ms at p99, and the slow presses were the full collections (11 in 30 s).

The pacer keeps what exists frozen (`gc.freeze`: the automatic collections then walk only
what was made since the last tick; each tick collects those, then freezes the survivors) and
does the full collection itself, when the operator
has not touched a key for a few seconds. Freezing delays collecting reference cycles (garbage
freed by reference counting goes at once either way), and Textual makes cycles: each
rebuild of the Footer leaves ~1,500 objects of them. So a full collection also runs, pause or
not, once `max_growth` objects were frozen since the last one or after `max_period`. A pause
with no input since the last full collection (the dashboard left alone) brings one only once
`min_growth` objects were frozen since: nothing rebuilt, so there is little to find, and a
full collection walks every object (~70 ms a minute of an idle dashboard with 100 runs).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any


class GcPacer:
    """`start()` once, `input_seen()` on every key or click, `tick()` every few seconds."""

    def __init__(
        self,
        *,
        period: float = 60.0,
        idle: float = 3.0,
        max_period: float = 300.0,
        max_growth: int = 200_000,
        min_growth: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
        collector: Any = gc,
    ) -> None:
        self.period = period  # at most one full collection this often
        self.idle = idle  # ... and only when no input came for this long
        self.max_period = max_period  # ... unless none ran for this long
        self.max_growth = max_growth  # ... or this many objects were frozen since
        self.min_growth = min_growth  # a pause with no input since the last: only past this
        self._grown = 0  # objects frozen since the last full collection
        self._clock = clock
        self._gc = collector
        self._last_full = clock()
        self._last_input = float("-inf")
        self.full_collections = 0
        self.started = False

    def start(self) -> None:
        self._gc.freeze()
        self._last_full = self._clock()
        self._grown = 0
        self.started = True

    def input_seen(self) -> None:
        self._last_input = self._clock()

    def tick(self) -> bool:
        """Freeze what survived since the last tick, or collect everything if it is time.
        True when a full collection ran."""
        if not self.started:
            return False
        now = self._clock()
        since_full = now - self._last_full
        quiet = now - self._last_input >= self.idle
        worth_it = self._last_input > self._last_full or self._grown >= self.min_growth
        if since_full < self.max_period and (since_full < self.period or not quiet or not worth_it):
            # Collect what is not frozen (only what was made since the last tick: a few ms),
            # so that garbage is not frozen with the survivors.
            self._gc.collect()
            # the survivors about to be frozen: counting them walks only them, where
            # get_freeze_count() walks every frozen object (~16 ms a tick with 130k)
            self._grown += len(self._gc.get_objects())
            self._gc.freeze()
            if self._grown < self.max_growth:
                return False
        self._gc.unfreeze()
        self._gc.collect()
        self._gc.freeze()
        self._last_full = now
        self._grown = 0
        self.full_collections += 1
        return True

    def stop(self) -> None:
        """Hand every object back to the ordinary collector."""
        if self.started:
            self._gc.unfreeze()
            self.started = False
