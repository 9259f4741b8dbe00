"""The scheduler's pure parts: one heap of due times for every tracked run, and the cap on
requests in flight that follows the server's latency. Synchronous; every time is passed in.

A run is re-planned by pushing a new entry with a higher generation: the old entry stays in
the heap and is dropped when it surfaces (cheaper than deleting from the middle of a heap).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import NamedTuple

from crewdash.core.monitor.settings import MonitorSettings


class Entry(NamedTuple):
    """One planned poll; a tuple, so the heap orders entries by due time, then seq."""

    due: float
    seq: int  # ties broken by push order: first planned, first sent
    local_id: str
    gen: int  # the run's generation when planned; a different one now means stale


class DueHeap:
    """Due times of runs, earliest first."""

    def __init__(self) -> None:
        self._heap: list[Entry] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, local_id: str, gen: int, due: float) -> bool:
        """Plan `local_id` (at generation `gen`) for `due`; True if it is now the earliest
        entry (the driver's wait must be re-planned)."""
        self._seq += 1
        heapq.heappush(self._heap, Entry(due, self._seq, local_id, gen))
        return self._heap[0][1] == self._seq

    def peek(self) -> Entry | None:
        return self._heap[0] if self._heap else None

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> Entry:
        return heapq.heappop(self._heap)

    def offer(self, until: float, takes: Callable[[Entry], bool | None]) -> None:
        """Offer `takes` the entries due by `until`, earliest first: those it takes (True)
        leave the heap, the others stay as they were; None declines this one and ends the
        offer (nothing more can be taken)."""
        declined: list[Entry] = []
        while self._heap and self._heap[0].due <= until:
            entry = heapq.heappop(self._heap)
            taken = takes(entry)
            if taken is None:
                heapq.heappush(self._heap, entry)
                break
            if not taken:
                declined.append(entry)
        for entry in declined:
            heapq.heappush(self._heap, entry)


class InFlightCap:
    """How many status requests may be in flight: latency / request_cost (more add no
    throughput, only pooled connections that cost CPU), between the settings' bounds. The
    latency taken is the lowest of this window and the last, so one slow answer does not
    shrink the cap and one quiet window does not forget the floor."""

    def __init__(self, settings: MonitorSettings) -> None:
        self.settings = settings
        self.cap = max(1, min(settings.min_in_flight, settings.max_in_flight))
        self._floor = (math.inf, math.inf)  # lowest latency: this window, the last one
        self._window_end: float | None = None

    def observe(self, latency: float, now: float) -> int:
        """One answer took `latency` seconds, at monotonic `now`; the cap in force after it."""
        s = self.settings
        current, last = self._floor
        if self._window_end is None:
            self._window_end = now + s.latency_window
        elif now >= self._window_end:
            current, last = math.inf, current
            self._window_end = now + s.latency_window
        current = min(current, latency)
        self._floor = (current, last)
        floor = min(current, last)
        want = math.ceil(floor / s.request_cost) if s.request_cost > 0 else s.max_in_flight
        self.cap = max(1, min(s.max_in_flight, max(s.min_in_flight, want)))
        return self.cap


__all__ = ["DueHeap", "Entry", "InFlightCap"]
