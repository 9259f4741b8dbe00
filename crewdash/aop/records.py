"""The AOP API's records: inputs, statuses, results, webhooks, resume answers.

Part of `crewdash.aop.models` (import them from there): they live in their own module so that
the values the dashboard needs for its first frame (`RunState`, `Secret`, ...) come without
building these ~8 frozen dataclasses (~8 ms at start-up, measured). Built on
`crewdash.aop.enums` and `crewdash.aop.secret`, never on the models that re-export them (no
import loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crewdash.aop.enums import InputType, RunState
from crewdash.aop.secret import Secret


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

    def __post_init__(self) -> None:
        if self.token:
            Secret(self.token)  # a token this process holds: redacted wherever a server echoes it

    def __repr__(self) -> str:  # the token must not leak through a repr
        return f"HumanInputWebhook(url={self.url!r}, token={'***' if self.token else None})"


@dataclass(frozen=True, slots=True)
class ResumeResult:
    status: str  # "resumed" | "retrying" | "completed" | anything the server said
    message: str = ""
