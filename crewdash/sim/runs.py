"""One run's state machine, derived from the clock instead of driven by a task.

A run is a sequence of *phases*. A phase starts at `phase_start` with task `phase_task` and
walks the remaining tasks by their durations (divided by the speed factor); it ends at a task
that fails, at a task that asks for human input (the run then holds there until `resume`),
or at the last task. `snapshot(now)` computes the state at any instant; only `resume` and
`stop` change stored fields, so 2,000 runs cost 2,000 small objects and no tasks or threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from crewdash.sim.scenario import CrewSpec, TaskSpec

State = Literal["pending", "running", "paused", "completed", "error", "stopped"]
FINAL_STATES: frozenset[str] = frozenset({"completed", "error", "stopped"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, inputs: dict[str, Any]) -> str:
    """`{name}` placeholders replaced by input values; unknown ones stay as they are."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(inputs[key]) if key in inputs else match.group(0)

    return _PLACEHOLDER.sub(sub, template)


class NotPausedError(Exception):
    """`resume` on a run that is not waiting for human input."""


class UnknownTaskError(Exception):
    """`resume` naming a task other than the one the run waits on."""


@dataclass(frozen=True, slots=True)
class TaskResult:
    task_id: str
    output: str
    agent: str
    execution_time: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    state: State
    task_index: int  # running/paused: the current task; error: the failed one; else -1
    completed: tuple[TaskResult, ...]
    pause_output: str | None = None
    pause_since: float | None = None
    ended_at: float | None = None
    error: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True, slots=True)
class Event:
    """Something a webhook may be told about; `at` is a monotonic instant."""

    at: float
    kind: Literal["step", "task", "pause", "crew"]
    task_index: int
    step: int = 0


class Run:
    """A kickoff's life. Times are the app clock's `monotonic()` values."""

    __slots__ = (
        "_fail_index",
        "answered",
        "attempt",
        "base_url",
        "callback_tokens",
        "created",
        "crew",
        "cursor",
        "done",
        "escalated",
        "event_stream",
        "feedback",
        "human_input_webhook",
        "inputs",
        "kickoff_id",
        "meta",
        "outcome",
        "phase",
        "phase_start",
        "phase_task",
        "speed",
        "stopped_at",
        "wall_offset",
        "webhooks",
    )

    def __init__(
        self,
        kickoff_id: str,
        crew: CrewSpec,
        inputs: dict[str, Any],
        *,
        now: float,
        wall_offset: float,
        speed: float,
        fail_index: int | None = None,
        meta: dict[str, Any] | None = None,
        webhooks: dict[str, str] | None = None,
        human_input_webhook: dict[str, Any] | None = None,
        event_stream: dict[str, Any] | None = None,
        base_url: str = "",
    ) -> None:
        self.kickoff_id = kickoff_id
        self.crew = crew
        self.inputs = inputs
        self.meta = meta or {}
        self.webhooks = webhooks or {}
        self.human_input_webhook = human_input_webhook
        self.event_stream = event_stream
        self.base_url = base_url
        self.speed = speed
        self.created = now
        self.wall_offset = wall_offset
        self._fail_index = fail_index
        self.phase = 0
        self.phase_start = now + crew.queue_delay / speed
        self.phase_task = 0
        self.attempt = 1
        self.done: list[TaskResult] = []
        self.feedback: tuple[str, str] | None = None  # (text, "approved" | "rejected")
        self.outcome: str | None = None
        self.stopped_at: float | None = None
        self.cursor = 0  # events of the current phase already delivered
        self.answered: set[tuple[int, int]] = set()  # (task_index, attempt) pauses answered
        self.escalated: set[tuple[int, int]] = set()
        self.callback_tokens: dict[tuple[int, int], str] = {}

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return self.crew.tasks

    def duration(self, index: int) -> float:
        return self.tasks[index].duration / self.speed

    def task_output(self, index: int) -> str:
        """The text task `index` produces in the current phase (feedback shows in it)."""
        task = self.tasks[index]
        text = render(task.output or f"{task.agent} finished `{task.id}`.", self.inputs)
        if index == self.phase_task and self.feedback:
            feedback, kind = self.feedback
            if kind == "rejected":
                text += f"\n\n> **Revised after feedback (attempt {self.attempt}):** {feedback}"
            else:
                text += f"\n\n> **Reviewer feedback applied:** {feedback}"
        return text

    def prompt(self, index: int) -> str:
        task = self.tasks[index]
        return render(task.prompt or f"Review the output of `{task.id}`.", self.inputs)

    def snapshot(self, now: float) -> Snapshot:
        done = tuple(self.done)
        if self.stopped_at is not None:
            return Snapshot("stopped", -1, done, ended_at=self.stopped_at)
        t = now - self.phase_start
        if t < 0:
            state: State = "pending" if self.phase == 0 else "running"
            return Snapshot(state, self.phase_task if state == "running" else -1, done)
        derived: list[TaskResult] = []
        at = self.phase_start
        for index in range(self.phase_task, len(self.tasks)):
            d = self.duration(index)
            if now < at + d:
                return Snapshot("running", index, done + tuple(derived))
            at += d
            task = self.tasks[index]
            if index == self._fail_index:
                return Snapshot(
                    "error",
                    index,
                    done + tuple(derived),
                    ended_at=at,
                    error=render(task.error, self.inputs),
                )
            output = self.task_output(index)
            if task.human_input:
                return Snapshot(
                    "paused", index, done + tuple(derived), pause_output=output, pause_since=at
                )
            derived.append(TaskResult(task.id, output, task.agent, round(d, 3)))
        return Snapshot("completed", -1, done + tuple(derived), ended_at=at)

    def final_output(self, snap: Snapshot) -> str:
        text = snap.completed[-1].output if snap.completed else ""
        if self.phase_task >= len(self.tasks) and self.feedback:
            text += f"\n\n> **Approved with feedback:** {self.feedback[0]}"
        if self.outcome:
            text += f"\n\n_Outcome chosen by the reviewer: **{self.outcome}**._"
        return text

    def events(self) -> list[Event]:
        """The current phase's webhook events in time order (ending at a pause or the end)."""
        out: list[Event] = []
        at = self.phase_start
        for index in range(self.phase_task, len(self.tasks)):
            task = self.tasks[index]
            d = self.duration(index)
            steps = max(0, task.steps)
            out.extend(
                Event(at + d * k / (steps + 1), "step", index, k) for k in range(1, steps + 1)
            )
            at += d
            if index == self._fail_index:
                out.append(Event(at, "crew", index))
                return out
            out.append(Event(at, "task", index))
            if task.human_input:
                out.append(Event(at, "pause", index))
                return out
        out.append(Event(at, "crew", -1))
        return out

    def resume(
        self, now: float, task_id: str, feedback: str, approve: bool, outcome: str | None = None
    ) -> str:
        """Apply a human answer; returns "resumed", "retrying" or "completed"."""
        snap = self.snapshot(now)
        if snap.state != "paused":
            raise NotPausedError(snap.state)
        index = snap.task_index
        if task_id != self.tasks[index].id:
            raise UnknownTaskError(task_id)
        self.answered.add((index, self.attempt))
        if outcome:
            self.outcome = outcome
        if approve:
            task = self.tasks[index]
            self.done.extend(snap.completed[len(self.done) :])
            self.done.append(
                TaskResult(
                    task.id, snap.pause_output or "", task.agent, round(self.duration(index), 3)
                )
            )
            self.phase_task = index + 1
            self.attempt = 1
            self.feedback = (feedback, "approved") if feedback else None
            status = "completed" if self.phase_task >= len(self.tasks) else "resumed"
        else:
            self.done.extend(snap.completed[len(self.done) :])
            self.phase_task = index
            self.attempt += 1
            self.feedback = (feedback, "rejected")
            status = "retrying"
        self.phase += 1
        self.phase_start = now
        self.cursor = 0
        return status

    def stop(self, now: float) -> bool:
        """Stop a queued, running or paused run; False if it had already ended."""
        if self.snapshot(now).is_final:
            return False
        self.stopped_at = now
        return True
