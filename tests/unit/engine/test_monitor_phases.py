"""Phase-length learning: pure, synchronous; every time is passed in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crewdash.aop.models import RunState
from crewdash.core.models import RunRecord
from crewdash.core.monitor.phases import PhaseModel, lead, phase_of
from crewdash.core.monitor.settings import MonitorSettings

TASK = ("running", "a")
S = MonitorSettings(trust_samples=3, trust_spread=0.15, phase_alpha=0.3, survivors=2)


def test_every_spelling_of_queued_is_one_phase() -> None:
    queued = RunRecord("r", "c", {}, "q", 0.0, state=RunState.PENDING, raw_state="QUEUED")
    running = RunRecord(
        "r", "c", {}, "q", 0.0, state=RunState.RUNNING, raw_state="running", current_task="a"
    )
    assert phase_of(queued) == ("pending", "")
    assert phase_of(running) == TASK


def test_the_lead_brackets_the_end_closely() -> None:
    assert lead(poll_min=1.0, expected=100.0) == 0.1
    assert lead(poll_min=1.0, expected=1.0) == 0.05


def test_agreeing_brackets_narrow_to_their_intersection_and_become_trusted() -> None:
    model = PhaseModel(S)
    model.learn(TASK, 10.0, shortest=9.5, longest=10.5)
    assert model.expected(TASK) == 10.0 and not model.trusted(TASK)
    model.learn(TASK, 10.2, shortest=9.8, longest=10.8)
    model.learn(TASK, 9.9, shortest=9.6, longest=10.6)
    assert model.bounds[TASK] == (9.8, 10.5)
    assert model.expected(TASK) == pytest.approx(10.15)
    assert model.trusted(TASK)  # three samples, spread 0.35 ≤ 15 % of 10.15


def test_disagreeing_lengths_fall_back_to_an_ewma_that_is_not_trusted() -> None:
    model = PhaseModel(S)
    model.learn(TASK, 10.0, 9.5, 10.5)
    model.learn(TASK, 20.0, 19.5, 20.5)  # no overlap: lengths vary
    assert model.expected(TASK) == pytest.approx(13.0)  # 0.7 x 10 + 0.3 x 20
    model.learn(TASK, 5.0, 4.5, 5.5)
    assert not model.trusted(TASK)


def test_the_runs_ahead_say_how_long_a_phase_lasts_at_least() -> None:
    model = PhaseModel(S)
    model.survived(TASK, "r1", 4.0)
    assert model.survived_age(TASK) == 0.0  # one run is not `survivors` runs
    model.survived(TASK, "r2", 6.0)
    assert model.survived_age(TASK) == 4.0
    model.survived(TASK, "r3", 5.0)  # further in than r1: replaces it
    assert model.survived_age(TASK) == 5.0
    model.survived(TASK, "r4", 1.0)  # behind both: ignored
    assert model.survived_age(TASK) == 5.0
    model.left(TASK, "r3")
    assert model.survived_age(TASK) == 0.0


def test_a_change_is_dated_between_the_polls_and_its_phase_learnt() -> None:
    model = PhaseModel(S)
    # In the phase since 0; polled at 9 (still in it), then at 10 (in the next one).
    dated = model.date_change(TASK, 0.0, 0.0, last_poll=9.0, sent_at=10.0, now=10.1, poll_min=1.0)
    assert dated.started == 9.5 and dated.slack == 0.5 and dated.news  # first sample: news
    assert model.expected(TASK) == 9.5
    assert model.bounds[TASK] == (9.0, 10.1)
    again = model.date_change(TASK, 20.0, 0.0, last_poll=29.0, sent_at=30.0, now=30.1, poll_min=1)
    assert not again.news  # known already, not trusted yet


def test_a_change_seen_without_a_known_start_learns_nothing() -> None:
    model = PhaseModel(S)
    dated = model.date_change(TASK, None, 0.0, last_poll=9.0, sent_at=10.0, now=10.1, poll_min=1)
    assert (dated.started, dated.slack, dated.news) == (9.5, 0.5, False)
    assert model.expected(TASK) is None
    first = model.date_change(TASK, 0.0, 0.0, last_poll=None, sent_at=3.0, now=3.1, poll_min=1)
    assert first.started is None  # the run's first look: no bracket


def test_the_middle_of_a_long_quiet_interval_is_clamped_to_one_poll_min_back() -> None:
    model = PhaseModel(S)
    dated = model.date_change(TASK, 0.0, 0.0, last_poll=0.5, sent_at=30.0, now=30.1, poll_min=1)
    assert dated.started == 29.0


def test_the_look_out_of_a_phase_is_the_run_that_entered_it_first() -> None:
    """One run looks out for the end of a phase nothing is known of: the one in it kicked off
    first (not the one seen at the greatest age, which the others' polls overtake)."""
    model = PhaseModel(S)
    assert model.looks_out(TASK, "r9", window=2.0)  # no run entered it: each on its own
    model.entered(TASK, "r2", 100.5)
    model.entered(TASK, "r1", 100.0)
    assert model.looks_out(TASK, "r1", window=2.0)
    assert not model.looks_out(TASK, "r2", window=2.0)
    model.survived(TASK, "r2", 30.0)  # seen further in than r1 was: r1 still looks out
    assert model.looks_out(TASK, "r1", window=2.0)
    model.left(TASK, "r1")
    assert model.looks_out(TASK, "r2", window=2.0)
    off = PhaseModel(replace(S, survivors=0))  # no runs ahead: every run explores
    off.entered(TASK, "r1", 100.0)
    off.entered(TASK, "r2", 100.5)
    assert off.looks_out(TASK, "r2", window=2.0)


def test_the_look_out_stays_close_only_for_runs_kicked_off_with_it() -> None:
    """Its looks are worth a request every explore interval while the runs in the phase
    would all be past its end before a stretched look saw it: it is alone, or `survivors`
    (2 here) others were kicked off within `window` of it. Runs spread out reach the end one
    by one, each after the one ahead learnt it: then it stretches like any run."""
    model = PhaseModel(S)
    model.entered(TASK, "r1", 100.0)
    assert model.looks_out(TASK, "r1", window=2.0)  # alone
    model.entered(TASK, "r2", 101.5)
    assert model.looks_out(TASK, "r2", window=2.0) is False
    assert model.looks_out(TASK, "r1", window=2.0)  # both together
    model.entered(TASK, "r3", 104.0)
    assert not model.looks_out(TASK, "r1", window=2.0)  # one of two others close
    model.entered(TASK, "r4", 101.9)
    assert model.looks_out(TASK, "r1", window=2.0)  # two close: a batch waits on its news
    spread = PhaseModel(S)
    for i in range(10):
        spread.entered(TASK, f"s{i}", 100.0 + 2.4 * i)
    assert not spread.looks_out(TASK, "s0", window=2.0)
