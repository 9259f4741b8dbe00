"""The run state machine, derived from the clock: no HTTP, no sleeping."""

from __future__ import annotations

import pytest

from crewdash.sim.runs import NotPausedError, Run, UnknownTaskError
from crewdash.sim.scenario import CrewSpec, TaskSpec

CREW = CrewSpec(
    "c",
    queue_delay=1.0,
    tasks=(
        TaskSpec("a", "Writer", 2.0, "A for {topic}"),
        TaskSpec("b", "Editor", 2.0, "B for {topic}", human_input=True, prompt="OK {topic}?"),
        TaskSpec("c", "Publisher", 2.0, "C for {topic}"),
    ),
)


def make(crew: CrewSpec = CREW, *, speed: float = 1.0, fail_index: int | None = None) -> Run:
    return Run(
        "k1", crew, {"topic": "cats"}, now=0.0, wall_offset=0.0, speed=speed, fail_index=fail_index
    )


def test_states_follow_the_clock() -> None:
    run = make()
    assert run.snapshot(0.5).state == "pending"
    snap = run.snapshot(1.5)
    assert (snap.state, snap.task_index, len(snap.completed)) == ("running", 0, 0)
    snap = run.snapshot(3.5)
    assert (snap.state, snap.task_index, [t.output for t in snap.completed]) == (
        "running",
        1,
        ["A for cats"],
    )
    snap = run.snapshot(5.0)
    assert snap.state == "paused" and snap.pause_output == "B for cats"
    # a pause holds however long nobody answers
    assert run.snapshot(10_000.0).state == "paused"
    assert run.prompt(1) == "OK cats?"


def test_speed_compresses_durations() -> None:
    run = make(speed=10.0)
    assert run.snapshot(0.05).state == "pending"
    assert run.snapshot(0.15).state == "running"
    assert run.snapshot(0.51).state == "paused"


def test_approve_continues_and_feedback_shows_in_the_next_output() -> None:
    run = make()
    assert run.resume(6.0, "b", "looks good, add a date", True) == "resumed"
    assert run.snapshot(7.0).state == "running"
    snap = run.snapshot(8.0)
    assert snap.state == "completed"
    assert [t.task_id for t in snap.completed] == ["a", "b", "c"]
    assert "looks good, add a date" in snap.completed[-1].output
    assert "looks good, add a date" in run.final_output(snap)


def test_reject_reruns_the_task_with_the_feedback_and_pauses_again() -> None:
    run = make()
    assert run.resume(6.0, "b", "too long", False) == "retrying"
    assert run.snapshot(7.0).state == "running"
    snap = run.snapshot(8.0)
    assert snap.state == "paused" and snap.task_index == 1
    assert "too long" in (snap.pause_output or "")
    assert [t.task_id for t in snap.completed] == ["a"]


def test_approving_the_last_task_completes_with_the_feedback() -> None:
    crew = CrewSpec(
        "c", queue_delay=0, tasks=(TaskSpec("only", "X", 1.0, "out", human_input=True),)
    )
    run = make(crew)
    assert run.resume(2.0, "only", "ship it", True) == "completed"
    snap = run.snapshot(2.0)
    assert snap.state == "completed" and "ship it" in run.final_output(snap)


def test_resume_refuses_when_not_paused_or_wrong_task() -> None:
    run = make()
    with pytest.raises(NotPausedError):
        run.resume(2.0, "b", "x", True)
    with pytest.raises(UnknownTaskError):
        run.resume(6.0, "a", "x", True)


def test_failure_ends_the_run_at_that_task() -> None:
    run = make(fail_index=0)
    assert run.snapshot(2.0).state == "running"
    snap = run.snapshot(3.5)
    assert snap.state == "error" and snap.ended_at == 3.0 and snap.error


def test_stop_freezes_a_live_run_and_refuses_a_finished_one() -> None:
    run = make()
    assert run.stop(2.0) is True
    assert run.snapshot(100.0).state == "stopped"
    done = make(CrewSpec("c", queue_delay=0, tasks=(TaskSpec("a", "X", 1.0),)))
    assert done.stop(5.0) is False


def test_events_are_ordered_and_end_at_the_pause() -> None:
    run = make()
    events = run.events()
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert [e.kind for e in events if e.kind != "step"] == ["task", "task", "pause"]
    run.resume(6.0, "b", "", True)
    assert [e.kind for e in run.events() if e.kind != "step"] == ["task", "crew"]
