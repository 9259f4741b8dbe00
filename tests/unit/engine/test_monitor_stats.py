"""crew_stats(): a crew's durations, latency and error rate as one frozen value."""

from __future__ import annotations

import dataclasses

import pytest

from crewdash.core.monitor.stats import CrewStats, RequestLog, crew_stats, percentile


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(reversed(values), 1.0) == 100.0


def test_nothing_seen_yet_says_none() -> None:
    stats = crew_stats("research", [], RequestLog(), now=100.0)
    assert stats == CrewStats("research", 0, None, None, 300.0, 0, 0, None, None, None, 0)


def test_figures_cover_the_window_and_the_durations() -> None:
    log = RequestLog()
    log.answered(at=10.0, latency=9.0)  # outside the window below
    for i in range(19):
        log.answered(at=100.0 + i, latency=0.1 * (i + 1))
    log.failed(at=120.0)
    stats = crew_stats(
        "research", [60.0, 90.0, 120.0], log, now=130.0, window=60.0, requests_total=21
    )
    assert (stats.requests, stats.errors, stats.error_rate) == (20, 1, 0.05)
    assert stats.latency_p50 == pytest.approx(1.0)
    assert stats.latency_p95 == pytest.approx(1.9)
    assert (stats.runs, stats.duration_p50, stats.duration_p95) == (3, 90.0, 120.0)
    assert stats.requests_total == 21


def test_stats_are_frozen() -> None:
    stats = crew_stats("research", [], RequestLog(), now=0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.requests = 3  # type: ignore[misc]  # the point: a frozen value refuses it
