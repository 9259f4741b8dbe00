"""The values core/ hands to the TUI and the CLI: runs as the store knows them, human-input
requests, crew health, and the events the engine publishes. No Textual, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from crewdash.aop.models import RunState

if TYPE_CHECKING:
    from crewdash.aop.models import RunResult  # built on first use (see crewdash.aop.models)


class KickoffPhase(StrEnum):
    """Where a kickoff is in the intent → POST → id protocol (DESIGN.md, data flow 3)."""

    INTENT = "intent"  # row written, POST not (yet) sent
    ACCEPTED = "accepted"  # the server answered with a kickoff id
    REFUSED = "refused"  # the server answered with an error: no run exists
    UNKNOWN = "unknown"  # the POST may have reached the server but the answer was lost


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


@dataclass(frozen=True, slots=True)
class StateChange:
    """One line of a run's state history."""

    local_id: str
    at: float
    raw_state: str
    state: RunState
    current_task: str | None = None
    detail: str | None = None


class RequestSource(StrEnum):
    STATUS = "status"  # seen as a pause while polling
    CREW_WEBHOOK = "crew_webhook"  # humanInputWebhook / taskWebhookUrl delivery
    FLOW_WEBHOOK = "flow_webhook"  # signed flow HITL delivery with callback_url


class AnswerOutcome(StrEnum):
    PENDING = "pending"  # audit row written, not sent yet
    ACCEPTED = "accepted"
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # 409
    NOT_WAITING = "not_waiting"  # 400: the run is no longer paused
    FAILED = "failed"  # network/server error: may be retried


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


class CrewHealth(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    SLOW = "slow"
    OFFLINE = "offline"
    TOKEN_REJECTED = "token_rejected"


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
