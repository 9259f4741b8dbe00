"""The records core/ hands out: runs, state changes, human-input requests, decisions, and the
events the engine publishes.

Part of `crewdash.core.models` (import them from there): they live in their own module so that
the dashboard's first frame, which needs only the enums, does not build these ~9 frozen
dataclasses (~11 ms at start-up, measured). Built on `crewdash.core.enums`, never on the models
that re-export them (no import loop)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from crewdash.aop.enums import RunState
from crewdash.core.enums import AnswerOutcome, CrewHealth, KickoffPhase, RequestSource

if TYPE_CHECKING:
    from crewdash.aop.records import RunResult


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


UNNAMED_TASK = "input"
"""The task a crew pause is filed under when no channel named one (`/resume` needs an id)."""


def output_digest(text: str) -> str:
    """A short digest of an output under review: what an answer says it was about."""
    import hashlib

    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "replace")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class PauseIdentity:
    """The pause an answer is about, as the operator saw it: the request (its id, run, task,
    round) and a digest of the output shown. An answer is sent only while the run is still
    in that pause (`Inbox.answer(seen=...)`)."""

    request_id: str
    kickoff_id: str | None
    task_id: str | None
    attempt: int
    output_digest: str


@dataclass(frozen=True, slots=True)
class HumanRequest:
    """One human-input request, whatever channel reported it: a crew pause is one request per
    (kickoff id, task, attempt), a flow pause one per flow request id; every channel that
    reports the same pause (polling, the crew/task webhook, the signed flow webhook) adds to
    this one record and never makes another (see `crewdash.core.inbox.inbox`)."""

    # The key everyone uses; fixed at first sighting: "<kickoff_id>:<task_id>" (attempt 1),
    # "<kickoff_id>:<task_id>#<attempt>", or the flow's request id when that came first.
    id: str
    crew: str
    source: RequestSource  # the channel that reported it first
    received_at: float
    kickoff_id: str | None = None
    local_id: str | None = None
    task_id: str | None = None  # the task or flow step, when any channel named it
    prompt: str = ""  # what is asked
    output: str = ""  # the output to review (Markdown)
    context: str = ""
    emit: tuple[str, ...] = ()  # flow outcomes; empty for crews (approve / request changes)
    callback_url: str | None = None
    sla_minutes: float | None = None
    assigned_to: str | None = None
    answered: AnswerOutcome | None = None  # None while waiting
    attempt: int = 1  # the round: 2, 3, ... after a "request changes" re-ran the task
    flow_request_id: str | None = None  # the id of the signed flow delivery, once one came
    flow: bool = False  # the crew is configured as a flow, or a channel said it is one

    @property
    def is_flow(self) -> bool:
        """A flow's request (answered with one of `emit`), whichever channel came first."""
        return self.flow or bool(self.emit) or self.flow_request_id is not None

    @property
    def identity(self) -> PauseIdentity:
        """This request as shown now: what an answer to it carries."""
        return PauseIdentity(
            self.id, self.kickoff_id, self.task_id, self.attempt, output_digest(self.output)
        )

    @property
    def named_task(self) -> str | None:
        """The task or step a channel named; None when unknown (or only the stand-in)."""
        return self.task_id if self.task_id and self.task_id != UNNAMED_TASK else None

    def enriched(self, later: HumanRequest) -> HumanRequest:
        """This request with what a later sighting of the same pause adds. Its identity (id,
        first channel and time, attempt), the answer, and a task or run already known stay;
        texts, outcomes, callback and SLA are taken from the later sighting where it has
        them; a flow stays a flow."""
        return replace(
            self,
            kickoff_id=self.kickoff_id or later.kickoff_id,
            local_id=self.local_id or later.local_id,
            task_id=self.task_id if self.named_task else later.task_id or self.task_id,
            prompt=later.prompt or self.prompt,
            output=later.output or self.output,
            context=later.context or self.context,
            emit=later.emit or self.emit,
            callback_url=later.callback_url or self.callback_url,
            sla_minutes=later.sla_minutes if later.sla_minutes is not None else self.sla_minutes,
            assigned_to=later.assigned_to or self.assigned_to,
            flow_request_id=self.flow_request_id or later.flow_request_id,
            flow=self.flow or later.flow,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """An operator's answer, written to the audit log before it is sent."""

    request_id: str
    feedback: str
    approve: bool | None = None  # crews
    outcome: str | None = None  # flows: one of `emit`
    user: str = ""
    at: float = 0.0
    origin: str = ""  # the front end it came through (crewdash.core.audit); "": the store's


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A decision as the audit trail keeps it, with the request it answered: one line of a
    run's human decisions (`RunStore.decisions_for_run`, `Engine.decisions`)."""

    id: int
    at: float  # when it was written, before it was sent
    request_id: str
    kickoff_id: str | None
    task_id: str | None
    attempt: int
    user: str  # "(observed)" when crewdash saw the run go on without its answer
    feedback: str
    approve: bool | None  # what `/resume` was sent (None for a callback or an observation)
    outcome: str | None  # the flow outcome chosen
    channel: str  # "resume", "callback", or "observed"
    result: AnswerOutcome  # PENDING until the server answered
    server_answer: str | None  # the server's words, or why the request was closed
    answered_at: float | None
    origin: str = ""  # the front end it came through ("dashboard", "cli:resume", "browser")


# --- events the engine publishes; each is already on disk when it is published ---------


@dataclass(frozen=True, slots=True)
class RunChanged:
    """A run's stored row changed. `previous` is the row as it was before this change (None for
    a new row, or when the publisher did not read it): notifications compare the two instead
    of reading a widget's copy of the run."""

    run: RunRecord
    previous: RunRecord | None = None


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


@dataclass(frozen=True, slots=True)
class RunEventsAdded:
    """Step, task or crew webhooks of a run were stored (by this process or another): a
    view of the run's event stream reads the new ones from the store."""

    local_id: str


Event = RunChanged | CrewHealthChanged | InboxChanged | RunEventsAdded
