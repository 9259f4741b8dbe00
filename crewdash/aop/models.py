"""Typed, normalised values of the AOP API.

Every variant a deployment may speak (see AOP-API.md) is parsed into these types, so the
rest of crewdash never looks at a raw body. Parsing lives in `crewdash.aop.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class InputType(StrEnum):
    """The kind of widget/validation an input needs. Unknown types map to JSON."""

    STRING = "string"
    TEXT = "text"  # long, multi-line text
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"  # enum with `choices`
    LIST = "list"
    JSON = "json"  # object, or any type we do not know


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input a kickoff takes, normalised from any of the three `/inputs` shapes."""

    name: str
    type: InputType = InputType.STRING
    required: bool = True
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] = ()
    raw_type: str = "string"  # the type string the server sent, shown when unknown


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_INPUT = "awaiting_input"
    COMPLETED = "completed"
    ERROR = "error"
    STOPPED = "stopped"
    UNKNOWN = "unknown"  # a state string we do not recognise; polling continues

    @property
    def is_final(self) -> bool:
        return self in (RunState.COMPLETED, RunState.ERROR, RunState.STOPPED)


@dataclass(frozen=True, slots=True)
class TaskOutput:
    task_id: str
    output: str
    agent: str = ""
    execution_time: float | None = None  # seconds


@dataclass(frozen=True, slots=True)
class RunResult:
    output: str
    tasks: tuple[TaskOutput, ...] = ()


@dataclass(frozen=True, slots=True)
class Progress:
    completed_tasks: int
    total_tasks: int


@dataclass(frozen=True, slots=True)
class RunStatus:
    """One observation of a run, from `GET /status/{id}` or `GET /{id}/status`."""

    state: RunState
    raw_state: str
    current_task: str | None = None
    progress: Progress | None = None
    result: RunResult | None = None
    error: str | None = None  # from `error` or `error_message`
    execution_time: float | None = None
    # Set when paused for human input: what is being reviewed and how to answer.
    pending_task_id: str | None = None
    pending_output: str | None = None
    pending_prompt: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    pending_emit: tuple[str, ...] = ()  # a flow step's allowed outcomes; empty for crews


@dataclass(frozen=True, slots=True)
class Webhooks:
    """The per-kickoff webhook URLs; `/resume` must send the same ones again."""

    task_url: str | None = None
    step_url: str | None = None
    crew_url: str | None = None

    def as_body(self) -> dict[str, str]:
        body: dict[str, str] = {}
        if self.task_url:
            body["taskWebhookUrl"] = self.task_url
        if self.step_url:
            body["stepWebhookUrl"] = self.step_url
        if self.crew_url:
            body["crewWebhookUrl"] = self.crew_url
        return body


@dataclass(frozen=True, slots=True)
class HumanInputWebhook:
    url: str
    token: str | None = None  # bearer token the receiver checks; never logged

    def __repr__(self) -> str:  # the token must not leak through a repr
        return f"HumanInputWebhook(url={self.url!r}, token={'***' if self.token else None})"


@dataclass(frozen=True, slots=True)
class ResumeResult:
    status: str  # "resumed" | "retrying" | "completed" | anything the server said
    message: str = ""


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class StatusRoute(StrEnum):
    """Which status route a deployment answers; remembered per crew."""

    CURRENT = "status_first"  # GET /status/{id}
    LEGACY = "id_first"  # GET /{id}/status


class Secret:
    """A token. Its str/repr are masked so it cannot leak through logging or a traceback;
    `reveal()` is called only where the Authorization header is built."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        """What a screen may show: the last four characters at most, never more."""
        v = self._value
        return "****" + v[-4:] if len(v) >= 12 else "****"

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
