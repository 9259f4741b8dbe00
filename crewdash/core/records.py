"""The records core/ hands out: runs, state changes, human-input requests, decisions, and the
events the engine publishes.

Part of `crewdash.core.models` (import them from there): they live in their own module so that
the dashboard's first frame, which needs only the enums, does not build these ~7 frozen
dataclasses (~4 ms at start-up on Python 3.11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crewdash.aop.models import RunState
from crewdash.core.models import AnswerOutcome, CrewHealth, KickoffPhase, RequestSource

if TYPE_CHECKING:
    from crewdash.aop.models import RunResult


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the store knows it. `local_id` exists before the kickoff id does."""

    local_id: str
    crew: str
    inputs: dict[str, Any]
    request_id: str  # sent in `meta`, lets a lost answer be matched later
    created_at: float  # unix seconds
    phase: KickoffPhase = KickoffPhase.INTENT
    kickoff_id: str | None = None
    state: RunState = RunState.PENDING
    raw_state: str = "pending"
    current_task: str | None = None
    completed_tasks: int | None = None
    total_tasks: int | None = None
    result: RunResult | None = None
    error: str | None = None  # run error, or why the kickoff phase is refused/unknown
    updated_at: float = 0.0
    finished_at: float | None = None
    webhooks: dict[str, str] = field(default_factory=dict)  # the URLs sent with the kickoff
    # Flags the monitor sets; they are not states of the run itself.
    stalled: bool = False
    offline_since: float | None = None  # the crew has been unreachable since then
    note: str | None = None  # a plain-words remark: "expired on the server", "token rejected"

    @property
    def is_final(self) -> bool:
        return self.phase in (KickoffPhase.REFUSED, KickoffPhase.UNKNOWN) or self.state.is_final

    @property
    def progress(self) -> tuple[int, int] | None:
        """(tasks done, tasks in all) as the operator should read it, None when unknown: a
        completed run did all its tasks, whatever the last poll while it ran said (rows
        stored before the store knew that included)."""
        if self.total_tasks is None:
            return None
        if self.state is RunState.COMPLETED:
            return (max(self.total_tasks, self.completed_tasks or 0),) * 2
        if self.completed_tasks is None:
            return None
        return (self.completed_tasks, self.total_tasks)

    @property
    def duration(self) -> float | None:
        """Seconds from the kickoff to the run's end, once it ended. None while it goes, for a
        kickoff the server refused (no run existed), and when the end is unknown (the run
        ended while nobody watched and the server did not say how long it took)."""
        if not self.is_final or self.phase is KickoffPhase.REFUSED or self.finished_at is None:
            return None
        return self.finished_at - self.created_at  # negative only if the clock stepped back


@dataclass(frozen=True, slots=True)
class StateChange:
    """One line of a run's state history."""

    local_id: str
    at: float
    raw_state: str
    state: RunState
    current_task: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class HumanRequest:
    """One pending human-input request, whatever channel it came from (deduplicated)."""

    id: str  # stable dedup key, e.g. "<kickoff_id>:<task_id>" or the flow request id
    crew: str
    source: RequestSource
    received_at: float
    kickoff_id: str | None = None
    local_id: str | None = None
    task_id: str | None = None
    prompt: str = ""  # what is asked
    output: str = ""  # the output to review (Markdown)
    context: str = ""
    emit: tuple[str, ...] = ()  # flow outcomes; empty for crews (approve / request changes)
    callback_url: str | None = None
    sla_minutes: float | None = None
    assigned_to: str | None = None
    answered: AnswerOutcome | None = None  # None while waiting


@dataclass(frozen=True, slots=True)
class Decision:
    """An operator's answer, written to the audit log before it is sent."""

    request_id: str
    feedback: str
    approve: bool | None = None  # crews
    outcome: str | None = None  # flows: one of `emit`
    user: str = ""
    at: float = 0.0


# --- events the engine publishes; each is already on disk when it is published ---------


@dataclass(frozen=True, slots=True)
class RunChanged:
    run: RunRecord


@dataclass(frozen=True, slots=True)
class CrewHealthChanged:
    crew: str
    health: CrewHealth
    detail: str = ""
    since: float | None = None
    latency: float | None = None  # seconds of the health check, when it measured one


@dataclass(frozen=True, slots=True)
class InboxChanged:
    request: HumanRequest  # added, updated or answered (see `request.answered`)


Event = RunChanged | CrewHealthChanged | InboxChanged
