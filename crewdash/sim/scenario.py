"""The scenario model: which crews a simulator serves and how each one behaves.

Plain frozen dataclasses; `crewdash.sim.loading` builds them from TOML/JSON and
`crewdash.sim.scenarios` holds the built-in ones. Durations are in simulated seconds
(divided by the app's speed factor at run time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InputsStyle = Literal["names", "typed", "required"]
StatusRouteStyle = Literal["current", "legacy", "both"]
ErrorField = Literal["error", "error_message"]
StopStyle = Literal["supported", "404", "405"]
CrewKindName = Literal["crew", "flow"]
OfflineMode = Literal["503", "drop"]

INPUT_TYPES = ("string", "text", "integer", "number", "boolean", "enum", "list", "object")


@dataclass(frozen=True, slots=True)
class InputField:
    """One kickoff input. `type`/`options`/`default`/`description` show only in typed crews."""

    name: str
    type: str = "string"
    required: bool = True
    default: object = None
    description: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task of a crew or one step of a flow.

    `output` and `prompt` may use `{input_name}` placeholders. `fail_rate` is the chance (drawn
    once per run from the seeded generator) that the task ends the run in error.
    `emit` lists the outcomes a flow's human-input step accepts; outcomes in `retry_outcomes`
    re-run the step like `is_approve: false`.
    """

    id: str
    agent: str
    duration: float = 10.0
    output: str = ""
    human_input: bool = False
    prompt: str = ""
    fail_rate: float = 0.0
    error: str = "Task execution failed"
    steps: int = 2
    emit: tuple[str, ...] = ()
    retry_outcomes: tuple[str, ...] = ("reject",)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Failures injected in front of one crew; every draw comes from a seeded generator.

    `latency`/`jitter` are real seconds (not scaled by speed). Rates are fractions of requests.
    `rate_limit` requests per `rate_window` seconds; over it a 429 with `Retry-After` follows,
    as seconds or, with `retry_after_http_date`, as an HTTP date. `drop_rate` cuts the
    connection before the request is processed, `drop_after_rate` after (a kickoff then
    started a run whose id the client never hears). `echo_token` makes the crew echo the
    bearer token it received in every text field of its answers (a careless server).
    """

    latency: float = 0.0
    jitter: float = 0.0
    error_rate: float = 0.0
    html_error_fraction: float = 0.5
    rate_limit: int = 0  # 0: no limit
    rate_window: float = 1.0
    retry_after_http_date: bool = False
    bad_body_rate: float = 0.0
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0  # processed, then the connection is cut before the answer
    refuse_rate: float = 0.0  # answered 422 Validation Error with `details.missing_inputs`
    echo_token: bool = False  # put the bearer token received into every text field it answers
    echo_token_in_id: bool = False  # ... and into the kickoff id


@dataclass(frozen=True, slots=True)
class FlowWebhook:
    """Where a flow deployment delivers its signed human-input requests (flow HITL)."""

    url: str
    secret: str = ""
    sla_target_minutes: float | None = None
    assigned_to: str = ""


@dataclass(frozen=True, slots=True)
class CrewSpec:
    """One deployment: its API variant, its tasks, its faults."""

    name: str
    tasks: tuple[TaskSpec, ...]
    kind: CrewKindName = "crew"
    label: str = ""
    token: str = ""  # empty: derived from the seed
    inputs: tuple[InputField, ...] = ()
    inputs_style: InputsStyle = "names"
    status_route: StatusRouteStyle = "both"
    error_field: ErrorField = "error"
    pause_state: str = "Pending Human Input"
    stop: StopStyle = "supported"
    queue_delay: float = 1.0
    expire_after: float | None = None  # seconds after a run ends; then 404
    faults: FaultSpec = field(default_factory=FaultSpec)
    flow_webhook: FlowWebhook | None = None
    offline: bool = False
    offline_mode: OfflineMode = "503"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    crews: tuple[CrewSpec, ...]
    description: str = ""

    def crew(self, name: str) -> CrewSpec:
        for crew in self.crews:
            if crew.name == name:
                return crew
        raise KeyError(name)
