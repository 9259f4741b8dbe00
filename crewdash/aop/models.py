"""Typed, normalised values of the AOP API.

Every variant a deployment may speak (see docs/aop-api.md) is parsed into these types, so the
rest of crewdash never looks at a raw body. Parsing lives in `crewdash.aop.parse`.

The enums are defined in `crewdash.aop.enums`, `Secret` in `crewdash.aop.secret`, and the
records (`InputSpec`, `RunStatus`, `RunResult`, ...) in `crewdash.aop.records`, imported from
here on first use (PEP 562): the dashboard's first frame needs only the enums and `Secret`,
and building the records' frozen dataclasses costs start-up ~8 ms (measured, min of 15 runs).
None of those modules imports this one, so there is no import loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crewdash.aop.enums import CircuitState as CircuitState
from crewdash.aop.enums import InputType as InputType
from crewdash.aop.enums import RunState as RunState
from crewdash.aop.enums import StatusRoute as StatusRoute
from crewdash.aop.lazy import lazy_exports
from crewdash.aop.secret import Secret as Secret
from crewdash.aop.secret import known_secrets as known_secrets

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


__getattr__, __dir__ = lazy_exports(__name__, _RECORDS, "crewdash.aop.records")
