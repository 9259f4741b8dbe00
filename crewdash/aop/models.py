"""Typed, normalised values of the AOP API.

Every variant a deployment may speak (see AOP-API.md) is parsed into these types, so the
rest of crewdash never looks at a raw body. Parsing lives in `crewdash.aop.parse`.

The records (`InputSpec`, `RunStatus`, `RunResult`, ...) are defined in `crewdash.aop.records`
and imported from here on first use (PEP 562): the dashboard's first frame needs only the
enums and `Secret`, and building the records' frozen dataclasses costs start-up ~4 ms.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from crewdash.aop.lazy import lazy_exports

if TYPE_CHECKING:
    from crewdash.aop.records import HumanInputWebhook as HumanInputWebhook
    from crewdash.aop.records import InputSpec as InputSpec
    from crewdash.aop.records import Progress as Progress
    from crewdash.aop.records import ResumeResult as ResumeResult
    from crewdash.aop.records import RunResult as RunResult
    from crewdash.aop.records import RunStatus as RunStatus
    from crewdash.aop.records import TaskOutput as TaskOutput
    from crewdash.aop.records import Webhooks as Webhooks

#: the dataclasses defined in `crewdash.aop.records`, imported from there on first use
_RECORDS = frozenset(
    (
        "HumanInputWebhook",
        "InputSpec",
        "Progress",
        "ResumeResult",
        "RunResult",
        "RunStatus",
        "TaskOutput",
        "Webhooks",
    )
)


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


#: every token value this process has held: text bound for a file or a screen that did not come
#: through a Secret (a crash report, say) is scrubbed of all of them (`known_secrets`)
_KNOWN_SECRETS: set[str] = set()


def known_secrets() -> frozenset[str]:
    return frozenset(_KNOWN_SECRETS)


class Secret:
    """A token. Its str/repr are masked so it cannot leak through logging or a traceback;
    `reveal()` is called only where the Authorization header is built."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= 4:  # shorter ones cannot be searched for without masking words
            _KNOWN_SECRETS.add(value)

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


__getattr__, __dir__ = lazy_exports(__name__, _RECORDS, "crewdash.aop.records")
