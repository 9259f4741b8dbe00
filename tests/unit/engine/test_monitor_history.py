"""Issue 17: what the store knows of a crew's earlier runs sets a new run's phases from its
first poll, and runs kicked off together share what the first of them to change phase saw.
Pure: times passed in, no loop."""

from __future__ import annotations

import random

import pytest

from crewdash.aop.models import RunState
from crewdash.core.events import EventBus
from crewdash.core.models import StateChange
from crewdash.core.monitor.history import phase_lengths, samples_by_phase
from crewdash.core.monitor.phases import PhaseModel
from crewdash.core.monitor.plan import Planner, Timing
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, ScriptedClient, accepted_run, completed, crew_config, status

QUEUE, TASK = ("pending", ""), ("running", "a")
LAST = ("running", "b")
CFG = crew_config(poll_min=1.0, poll_max=30.0)
S = MonitorSettings(jitter=0.0)


def change(at: float, state: RunState, task: str | None = None) -> StateChange:
    return StateChange("r", at, str(state), state, task, None)


def test_an_earlier_run_s_history_gives_each_phase_its_length() -> None:
    changes = [
        change(100.5, RunState.PENDING),  # the kickoff's own row: the queue goes on
        change(102.0, RunState.RUNNING, "a"),
        change(122.0, RunState.RUNNING, "b"),
        change(142.5, RunState.COMPLETED),
    ]
    lengths = phase_lengths(100.0, changes)  # the queue began when the run was created
    assert lengths == [(QUEUE, 2.0), (TASK, 20.0), (LAST, 20.5)]
    # no row for the queue: it began at the run's creation all the same
    assert samples_by_phase([(100.0, changes), (101.0, changes[1:3])]) == {
        QUEUE: [2.0, 1.0],
        TASK: [20.0, 20.0],
        LAST: [20.5],
    }


def test_seeded_phases_are_known_and_trusted_when_earlier_runs_agree() -> None:
    model = PhaseModel(S)
    model.seed(TASK, [20.0, 20.5, 19.5, 20.0])
    assert model.expected(TASK) == 20.0 and model.trusted(TASK)
    assert model.bounds[TASK] == (19.5, 20.5)  # a live run's bracket narrows them
    model.learn(TASK, 20.2, 20.1, 21.0)
    assert model.bounds[TASK] == (20.1, 20.5) and model.expected(TASK) == pytest.approx(20.3)
    model.seed(LAST, [20.0])  # one earlier run: known, not trusted
    assert model.expected(LAST) == 20.0 and not model.trusted(LAST)
    model.seed(QUEUE, [2.0, 10.0, 30.0])  # they disagree: known, not trusted
    assert model.expected(QUEUE) == 10.0 and not model.trusted(QUEUE)
    model.seed(TASK, [99.0, 99.0, 99.0])  # what was learnt already stays
    assert model.expected(TASK) == pytest.approx(20.3)


def history(store: RunStore, runs: int, t: float = 1000.0) -> None:
    """`runs` completed runs of crew "research": queued 2 s, task a 20 s, task b 20 s."""
    for i in range(runs):
        rec = accepted_run(store, at=t)
        store.record_status(rec.local_id, status(task="a", done=0, total=2), t + 2.0)
        store.record_status(rec.local_id, status(task="b", done=1, total=2), t + 22.0)
        store.record_status(rec.local_id, completed(), t + 42.0)
        t += 100.0 + i


def test_the_store_s_history_sets_a_new_run_s_polls_from_its_first(store: RunStore) -> None:
    history(store, 3)
    runs = store.phase_history("research")
    assert len(runs) == 3 and [len(changes) for _, changes in runs] == [3, 3, 3]
    clock = ManualClock()
    monitor = Monitor(store, EventBus(), clock=clock, settings=S)
    monitor.add_crew(crew_config(poll_min=1.0, poll_max=30.0), ScriptedClient(clock, None))
    monitor.learn_history("research", runs)
    model = monitor._crews["research"].phases
    assert model.trusted(QUEUE) and model.trusted(TASK) and model.trusted(LAST)
    assert model.expected(TASK) == pytest.approx(20.0)
    # A new run, its task "a" begun at 500: its first poll plans one look just after the
    # end the history says (not a poll_min later, nor a stretch towards poll_max).
    plan = Planner(S, random.Random(1))
    t = Timing(interval=1.0, phase=TASK, phase_started=500.0, last_poll=500.5)
    delay = plan.next_delay(t, model, CFG, 500.5, changed=True, waiting=False)
    assert 500.5 + delay == pytest.approx(500.0 + 20.0 + 0.05)  # end + a sliver of poll_min


def test_runs_started_together_share_what_the_first_to_change_phase_saw() -> None:
    """Runs a and b began task "a" at 100 and 101.5; nothing known of it. When a is seen in
    task "b", the length of "a" is learnt from a's polls, and b (which would otherwise go on
    exploring) is due just before its own end by that length."""
    model = PhaseModel(S)
    plan = Planner(S, random.Random(1))
    b = Timing(interval=2.0, phase=TASK, phase_started=101.5, last_poll=119.0)
    assert plan.news_due(b, model, CFG, 120.0) is None  # nothing known yet
    dated = model.date_change(
        TASK, 100.0, 0.0, last_poll=119.5, sent_at=120.5, now=120.6, poll_min=1.0
    )
    assert dated.news and model.expected(TASK) == pytest.approx(20.0)
    due = plan.news_due(b, model, CFG, 120.6)
    assert due is not None and 120.6 <= due <= 101.5 + 20.0 - 0.1  # just before its end
    # b, polled at that time and still in "a", looks again soon after the learnt end
    delay = plan.next_delay(b, model, CFG, due, changed=False, waiting=False)
    assert due + delay <= 101.5 + 20.0 + 1.0
