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
    # Kickoff accounting: requests sent for this row (429s and 503s included), when the last
    # one went on the wire (None: nothing was ever sent, or the last was refused unread), and
    # the lease id of the live process sending it (None once its phase is settled).
    attempts: int = 0
    sent_at: float | None = None
    owner: str | None = None

    @property
    def is_final(self) -> bool:
        return self.phase in (KickoffPhase.REFUSED, KickoffPhase.UNKNOWN) or self.state.is_final


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
