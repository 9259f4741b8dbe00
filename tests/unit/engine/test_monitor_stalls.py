"""Stall detection: synchronous, times passed in."""

from __future__ import annotations

from dataclasses import replace

from crewdash.aop.models import RunState
from crewdash.core.models import RunRecord
from crewdash.core.monitor.settings import MonitorSettings
from crewdash.core.monitor.stalls import newly_stalled, stall_after, typical_duration

S = MonitorSettings(stall_factor=3.0, stall_floor=120.0, stall_default=1800.0)
RUN = RunRecord("r1", "research", {}, "req", 0.0, state=RunState.RUNNING, raw_state="running")


def test_the_threshold_is_the_default_until_enough_runs_were_seen() -> None:
    assert stall_after([], S) == 1800.0
    assert stall_after([100.0, 100.0], S) == 1800.0
    assert stall_after([100.0, 100.0, 400.0], S) == 300.0  # 3 x the median
    assert stall_after([10.0, 10.0, 10.0], S) == 120.0  # never under the floor


def test_typical_duration_is_the_median() -> None:
    assert typical_duration([]) is None
    assert typical_duration([1.0, 5.0, 100.0]) == 5.0


def test_a_run_quiet_past_the_threshold_is_stalled_once() -> None:
    assert not newly_stalled(RUN, 300.0, after=300.0)
    assert newly_stalled(RUN, 300.5, after=300.0)
    assert not newly_stalled(replace(RUN, stalled=True), 900.0, after=300.0)


def test_a_run_waiting_for_a_human_never_stalls() -> None:
    waiting = replace(RUN, state=RunState.AWAITING_INPUT)
    assert not newly_stalled(waiting, 1e9, after=300.0)
