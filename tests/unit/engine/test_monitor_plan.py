"""When to look at a run next: pure policy, no jitter, no loop."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from crewdash.core.monitor.phases import PhaseModel
from crewdash.core.monitor.plan import Planner, Timing
from crewdash.core.monitor.settings import MonitorSettings
from engine.fakes import crew_config

TASK = ("running", "a")
CFG = crew_config(poll_min=1.0, poll_max=30.0)
S = MonitorSettings(jitter=0.0, stretch=1.5, survivors=2, aim_floor=0.05)


def setup() -> tuple[Planner, PhaseModel]:
    return Planner(S, random.Random(1)), PhaseModel(S)


def trusted(model: PhaseModel, length: float = 10.0) -> None:
    for _ in range(3):
        model.learn(TASK, length, length - 0.1, length + 0.1)
    assert model.trusted(TASK)


def test_quiet_polls_stretch_up_to_poll_max_and_a_change_resets() -> None:
    plan, model = setup()
    model.learn(TASK, 100.0, 90.0, 110.0)  # known, far from its end: nothing caps the stretch
    t = Timing(interval=1.0, phase=TASK)
    delays = [plan.next_delay(t, model, CFG, 0.0, changed=False, waiting=False) for _ in range(9)]
    assert delays[:3] == [1.5, 2.25, 3.375]
    assert delays[-1] == 30.0
    assert plan.next_delay(t, model, CFG, 0.0, changed=True, waiting=False) == 1.0


def test_a_phase_nothing_is_known_of_is_polled_at_least_every_explore_max() -> None:
    """No earlier run, no run ahead: no end to aim at, so the stretch stops at explore_max
    poll_min (2 s here) rather than poll_max; a run awaiting a human still stretches."""
    plan, model = setup()
    t = Timing(interval=1.0, phase=TASK, phase_started=100.0)
    now, delays = 100.0, []
    for _ in range(8):
        delays.append(plan.next_delay(t, model, CFG, now, changed=False, waiting=False))
        now += delays[-1]
    assert delays == [1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    waiting = Timing(interval=1.0, phase=TASK, phase_started=100.0)
    stretched = [
        plan.next_delay(waiting, model, CFG, 101.0, changed=False, waiting=True) for _ in range(9)
    ]
    assert stretched[-1] == 30.0
    off = Planner(replace(S, explore_max=0.0), random.Random(1))
    t = Timing(interval=1.0, phase=TASK, phase_started=100.0)
    assert off.next_delay(t, model, CFG, 101.0, changed=False, waiting=False) == 1.5
    assert off.next_delay(t, model, CFG, 101.0, changed=False, waiting=False) == 2.25


def test_only_the_look_out_of_runs_kicked_off_together_stays_close() -> None:
    """Runs kicked off together: the first into the unknown phase looks at least every
    explore_max poll_min, the others do not (they follow it). Runs spread out over time: the
    first stretches like any run (the others reach the end after it learnt it)."""
    plan = Planner(S, random.Random(1))
    for gap, capped in ((0.2, True), (5.0, False)):
        model = PhaseModel(S)
        for i in range(3):
            model.entered(TASK, f"r{i}", 100.0 + gap * i)
        first = Timing(interval=1.0, key="r0", phase=TASK, phase_started=100.0)
        delays = [plan.next_delay(first, model, CFG, 101.0, changed=False, waiting=False)]
        delays += [plan.next_delay(first, model, CFG, 101.0, changed=False, waiting=False)]
        assert (delays == [1.5, 2.0]) is capped, gap
        assert delays[1] == (2.0 if capped else 2.25)
        # the look-out follows no run: a run ahead seen further in does not put it off
        model.survived(TASK, "r1", 30.0)
        model.survived(TASK, "r2", 30.0)
        first.last_poll = 101.0
        assert (plan.replan(first, model, CFG, 102.0, waiting=False) is None) is capped
        other = Timing(interval=2.0, key="r1", phase=TASK, phase_started=100.0 + gap)
        assert plan.next_delay(other, model, CFG, 120.0, changed=False, waiting=False) == 3.0


def test_the_runs_ahead_stretch_on_their_own_while_those_behind_follow_them() -> None:
    """The runs furthest into an unknown phase (its look-out aside) are the ones whose polls
    will see its end: they stretch as after any quiet poll, not put off by their own ages
    (only the runs behind are)."""
    plan, model = setup()
    model.entered(TASK, "r0", 0.0)  # the look-out (see the test above)
    model.survived(TASK, "r1", 20.0)
    model.survived(TASK, "r2", 21.0)
    ahead = Timing(interval=2.0, key="r2", phase=TASK, phase_started=100.0, last_poll=120.0)
    assert plan.next_delay(ahead, model, CFG, 121.0, changed=False, waiting=False) == 3.0
    assert plan.replan(ahead, model, CFG, 121.0, waiting=False) is None  # due: poll it
    behind = Timing(interval=2.0, key="r3", phase=TASK, phase_started=110.0, last_poll=120.0)
    delay = plan.next_delay(behind, model, CFG, 121.0, changed=False, waiting=False)
    assert delay == pytest.approx(110.0 + 1.5 * 20.0 - 121.0)
    # kicked off with them and as old as they were when last seen: still behind
    along = Timing(interval=2.0, key="r3", phase=TASK, phase_started=100.0, last_poll=120.0)
    delay = plan.next_delay(along, model, CFG, 121.0, changed=False, waiting=False)
    assert delay == pytest.approx(100.0 + 1.5 * 20.0 - 121.0)


def test_a_trusted_phase_is_looked_at_once_just_after_its_end() -> None:
    plan, model = setup()
    trusted(model)
    t = Timing(interval=1.0, phase=TASK, phase_started=100.0)
    delay = plan.next_delay(t, model, CFG, 101.0, changed=True, waiting=False)
    aim = 100.0 + 10.0 + 0.1 + 0.05  # end + usual error + a sliver of poll_min
    assert delay == pytest.approx(aim - 101.0)


def test_an_unknown_phase_follows_the_runs_ahead() -> None:
    plan, model = setup()
    model.entered(TASK, "r0", 0.0)  # the look-out: not this run
    model.survived(TASK, "r1", 20.0)
    model.survived(TASK, "r2", 20.0)
    t = Timing(interval=1.0, phase=TASK, phase_started=100.0)
    delay = plan.next_delay(t, model, CFG, 101.0, changed=True, waiting=False)
    assert delay == pytest.approx(100.0 + 1.5 * 20.0 - 101.0)  # not before the runs ahead
    assert plan.next_delay(t, model, CFG, 101.0, changed=True, waiting=True) == 1.0


def test_a_learning_phase_is_looked_at_just_before_its_expected_end() -> None:
    plan, model = setup()
    model.learn(TASK, 10.0, 9.0, 11.0)  # known, not trusted
    t = Timing(interval=30.0, phase=TASK, phase_started=100.0)
    delay = plan.next_delay(t, model, CFG, 101.0, changed=False, waiting=False)
    assert delay == pytest.approx(110.0 - 0.1 - 101.0)


def test_past_the_expected_end_looks_get_rarer_the_later_it_gets() -> None:
    plan, model = setup()
    model.learn(TASK, 10.0, 9.0, 11.0)
    t = Timing(interval=30.0, phase=TASK, phase_started=100.0)
    assert plan.next_delay(t, model, CFG, 111.0, changed=False, waiting=False) == 1.0
    late = plan.next_delay(t, model, CFG, 130.0, changed=False, waiting=False)
    assert late == pytest.approx(0.5 * 20.0)


def test_replan_puts_off_a_poll_that_would_see_nothing_but_never_past_poll_max() -> None:
    plan, model = setup()
    trusted(model, 100.0)
    t = Timing(interval=1.0, phase=TASK, phase_started=0.0, last_poll=1.0)
    assert plan.replan(t, model, CFG, 5.0, waiting=False) == 31.0  # last poll + poll_max
    t.urgent = True
    assert plan.replan(t, model, CFG, 5.0, waiting=False) is None
    t.urgent = False
    assert plan.replan(t, model, CFG, 5.0, waiting=True) is None


def test_news_of_a_phase_brings_a_waiting_run_forward() -> None:
    plan, model = setup()
    t = Timing(interval=30.0, phase=TASK, phase_started=100.0)
    assert plan.news_due(t, model, CFG, 101.0) is None
    model.learn(TASK, 10.0, 9.0, 11.0)
    assert plan.news_due(t, model, CFG, 101.0) == pytest.approx(109.9)
    assert plan.news_due(t, model, CFG, 200.0) == 200.0  # never in the past


def test_stretch_is_bounded_by_poll_max() -> None:
    plan, _model = setup()
    t = Timing(interval=25.0)
    assert plan.stretch(t, CFG) == 30.0 and t.interval == 30.0
