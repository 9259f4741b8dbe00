"""Phase lengths from the store's history of a crew's earlier runs, so a new run's phases are
known from its first poll instead of learnt again by every batch (issue 17).

A run's state changes are the times crewdash saw each phase begin; the time from one to the
next is how long the phase lasted, give or take the polls' detection delays, which are alike
at both ends and mostly cancel. Pure: the store's rows are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crewdash.aop.models import RunState
from crewdash.core.models import StateChange
from crewdash.core.monitor.phases import Phase

QUEUED: Phase = ("pending", "")


def change_phase(change: StateChange) -> Phase:
    """The phase a history row says began; the same as `phases.phase_of` on the record."""
    raw = "pending" if change.state is RunState.PENDING else change.raw_state
    return (raw, change.current_task or "")


def phase_lengths(created_at: float, changes: Sequence[StateChange]) -> list[tuple[Phase, float]]:
    """How long each phase of one earlier run lasted, in order; the last phase (its end, or
    where it was left) has no length. Every run is created queued: its queue phase began
    then, as a tracked run's does (`Tracking._just_accepted`), whether or not a row says so;
    rows that repeat a phase (the kickoff's own, say) do not start it again."""
    lengths: list[tuple[Phase, float]] = []
    current: Phase = QUEUED
    began = created_at
    for change in changes:
        phase = change_phase(change)
        if phase == current:
            continue
        if change.at > began:
            lengths.append((current, change.at - began))
        current, began = phase, change.at
    return lengths


def samples_by_phase(
    runs: Iterable[tuple[float, Sequence[StateChange]]],
) -> dict[Phase, list[float]]:
    """Every earlier run's length of each phase, per phase."""
    samples: dict[Phase, list[float]] = {}
    for created_at, changes in runs:
        for phase, length in phase_lengths(created_at, changes):
            samples.setdefault(phase, []).append(length)
    return samples


__all__ = ["change_phase", "phase_lengths", "samples_by_phase"]
