"""What the monitor knows of a crew's performance, as one frozen value for the trends screen:
how long its completed runs took, how fast its status requests were answered, and how many of
them failed lately.

Pure and synchronous: the request log is fed by the poller, times are passed in.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

STATS_WINDOW = 300.0  # seconds of requests the latency and error figures cover
LOG_SIZE = 2000  # requests kept per crew: bounds memory whatever the poll rate


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class Request(NamedTuple):
    """One sent request (a tuple: the log takes one per poll, so it must be cheap)."""

    at: float  # monotonic time of the answer (or failure)
    ok: bool
    latency: float | None  # seconds; None when no answer came


@dataclass(slots=True)
class RequestLog:
    """The last requests of one crew that were actually sent."""

    entries: deque[Request] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))

    def answered(self, at: float, latency: float) -> None:
        self.entries.append(Request(at, True, latency))

    def failed(self, at: float, latency: float | None = None) -> None:
        self.entries.append(Request(at, False, latency))

    def since(self, start: float) -> list[Request]:
        return [r for r in self.entries if r.at >= start]


@dataclass(frozen=True, slots=True)
class CrewStats:
    """One crew's figures; None where nothing was seen yet."""

    crew: str
    runs: int  # completed runs whose duration is known (the last few dozen)
    duration_p50: float | None  # seconds, over those runs
    duration_p95: float | None
    window: float  # seconds of requests the figures below cover
    requests: int  # status requests sent in the window
    errors: int  # ... of which failed (errors, timeouts, 401, 429; not the ones held back)
    error_rate: float | None  # errors / requests
    latency_p50: float | None  # seconds, answers in the window
    latency_p95: float | None
    requests_total: int  # status requests sent since start


def crew_stats(
    crew: str,
    durations: Sequence[float],
    log: RequestLog,
    now: float,
    *,
    window: float = STATS_WINDOW,
    requests_total: int = 0,
) -> CrewStats:
    """The figures of `crew` at monotonic `now`."""
    recent = log.since(now - window)
    latencies = [r.latency for r in recent if r.ok and r.latency is not None]
    errors = sum(1 for r in recent if not r.ok)
    return CrewStats(
        crew=crew,
        runs=len(durations),
        duration_p50=percentile(durations, 0.5),
        duration_p95=percentile(durations, 0.95),
        window=window,
        requests=len(recent),
        errors=errors,
        error_rate=errors / len(recent) if recent else None,
        latency_p50=percentile(latencies, 0.5),
        latency_p95=percentile(latencies, 0.95),
        requests_total=requests_total,
    )


__all__ = ["STATS_WINDOW", "CrewStats", "RequestLog", "crew_stats", "percentile"]
