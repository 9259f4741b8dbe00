"""Per-crew trends over hours and days, read from the store's hourly buckets (migration v8):
runs started per bucket, success rate, p50/p95 duration of completed runs, p50/p95 wait of
human-input requests until answered.

Percentiles come from log-spaced histograms (crewdash.core.store.hour_bins): each is within
±9 % of the exact nearest-rank percentile (or 0.125 s under 0.25 s). Buckets are whole UTC
hours (or 2, 3, 6, 12, 24, 48, 168 of them, so a window up to 48 weeks has at most
`MAX_POINTS` + 1); the window is
rounded out to whole buckets: the first holds `since`, the last (the current one) `now`.
Opening the trends costs one range scan of the window's hours, whatever the store holds
(tests/benchmarks/test_stats_bench.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crewdash.core.store.hour_bins import ABSOLUTE_ERROR, RELATIVE_ERROR, middle

if TYPE_CHECKING:
    from crewdash.core.store.crew_hours import CrewHoursMixin, HourBin, HourCounts

HOUR = 3600
BUCKET_HOURS = (1, 2, 3, 6, 12, 24, 48, 168)
MAX_POINTS = 48
PRECISION = (
    f"percentiles within ±{RELATIVE_ERROR * 100:.0f} % (log-spaced bins; "
    f"±{ABSOLUTE_ERROR:g} s under {ABSOLUTE_ERROR * 2:g} s)"
)


def bucket_for(window: float) -> int:
    """Seconds per bucket for a window: the smallest of BUCKET_HOURS giving ≤ MAX_POINTS."""
    for hours in BUCKET_HOURS:
        if window <= hours * HOUR * MAX_POINTS:
            return hours * HOUR
    return BUCKET_HOURS[-1] * HOUR


def histogram_percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """The nearest-rank percentile (0 < fraction ≤ 1) of a histogram {bin: count}: the middle
    of the bin that holds it (see the module docstring for the precision); None if empty."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return middle(index)
    return middle(max(counts))  # unreachable: the counts sum to total


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket (or a whole window): runs started, runs finished by outcome, percentiles."""

    start: float
    runs: int = 0  # started (accepted kickoffs)
    finished: int = 0
    completed: int = 0
    failed: int = 0  # ended in error
    stopped: int = 0
    duration_p50: float | None = None  # seconds, completed runs with a known end
    duration_p95: float | None = None
    answered: int = 0  # human-input requests answered
    wait_p50: float | None = None  # seconds from the request to its answer
    wait_p95: float | None = None

    @property
    def success_rate(self) -> float | None:
        """Completed out of completed + failed; stopped runs (the operator's doing) not
        counted; None when none ended either way."""
        ended = self.completed + self.failed
        return self.completed / ended if ended else None


@dataclass(frozen=True, slots=True)
class CrewTrends:
    crew: str
    start: float  # the first bucket's start
    end: float  # now
    bucket: int  # seconds
    points: tuple[TrendPoint, ...]
    total: TrendPoint  # the whole window


class _Acc:
    """Sums of one bucket or window, and its histograms."""

    __slots__ = ("counts", "run", "wait")

    def __init__(self) -> None:
        self.counts = [0, 0, 0, 0, 0]
        self.run: dict[int, int] = defaultdict(int)
        self.wait: dict[int, int] = defaultdict(int)

    def add_counts(self, row: HourCounts) -> None:
        for i, value in enumerate(row[2:]):
            self.counts[i] += value

    def add_bin(self, row: HourBin) -> None:
        (self.run if row.metric == "run" else self.wait)[row.bin] += row.n

    def point(self, start: float) -> TrendPoint:
        runs, finished, completed, failed, stopped = self.counts
        return TrendPoint(
            start,
            runs,
            finished,
            completed,
            failed,
            stopped,
            duration_p50=histogram_percentile(self.run, 0.5),
            duration_p95=histogram_percentile(self.run, 0.95),
            answered=sum(self.wait.values()),
            wait_p50=histogram_percentile(self.wait, 0.5),
            wait_p95=histogram_percentile(self.wait, 0.95),
        )


def _window(since: float, now: float, bucket: int | None) -> tuple[int, int, int]:
    """(first bucket start, bucket seconds, number of buckets): the first holds `since`, the
    last `now`."""
    size = bucket or bucket_for(max(0.0, now - since))
    first, last = int(min(since, now) // size) * size, int(now // size) * size
    return first, size, (last - first) // size + 1


def all_crew_trends(
    store: CrewHoursMixin,
    since: float,
    now: float,
    crews: Iterable[str] = (),
    *,
    bucket: int | None = None,
    only: str | None = None,
) -> dict[str, CrewTrends]:
    """Trends of every crew in `crews` (empty if nothing happened) and every crew found in
    the window, or of `only`; one query of the store."""
    first, size, count = _window(since, now, bucket)
    counts, bins = store.hour_buckets(first, first + count * size, size, only)
    names = [only] if only else list(dict.fromkeys([*crews, *(r.crew for r in counts)]))
    names += sorted({b.crew for b in bins} - set(names)) if not only else []
    accs: dict[tuple[str, int], _Acc] = defaultdict(_Acc)
    totals: dict[str, _Acc] = defaultdict(_Acc)
    for row in counts:
        accs[row.crew, row.start].add_counts(row)
        totals[row.crew].add_counts(row)
    for b in bins:
        accs[b.crew, b.start].add_bin(b)
        totals[b.crew].add_bin(b)
    empty = _Acc()
    starts = [first + i * size for i in range(count)]
    return {
        name: CrewTrends(
            crew=name,
            start=first,
            end=now,
            bucket=size,
            points=tuple(accs.get((name, s), empty).point(s) for s in starts),
            total=totals.get(name, empty).point(first),
        )
        for name in names
    }


def crew_trends(
    store: CrewHoursMixin, crew: str, since: float, now: float, *, bucket: int | None = None
) -> CrewTrends:
    """One crew's trends from `since` to `now` (see the module docstring)."""
    return all_crew_trends(store, since, now, bucket=bucket, only=crew)[crew]


__all__ = [
    "PRECISION",
    "CrewTrends",
    "TrendPoint",
    "all_crew_trends",
    "bucket_for",
    "crew_trends",
    "histogram_percentile",
]
