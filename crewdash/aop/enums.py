"""The AOP API's enums: what a value is (an input's type, a run's state, a circuit's state, a
deployment's status route). Re-exported by `crewdash.aop.models`; a module of its own so that
`crewdash.aop.records` builds on it without importing the models that re-export the records."""

from __future__ import annotations

from enum import StrEnum


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


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class StatusRoute(StrEnum):
    """Which status route a deployment answers; remembered per crew."""

    CURRENT = "status_first"  # GET /status/{id}
    LEGACY = "id_first"  # GET /{id}/status
