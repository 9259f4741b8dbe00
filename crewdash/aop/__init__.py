"""crewdash.aop: a client for CrewAI AOP deployments, usable on its own.

`AsyncCrewClient` and `CrewClient` share one I/O-free core (`crewdash.aop.protocol`): request
specs (`calls`), parsers (`parse`, `output`), error mapping (`classify`) and policies
(`resilience`).

The names below are imported on first use (PEP 562): `import crewdash.aop.models` must not
pull in httpx (~190 ms), which only the clients need."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

# httpx's package imports its command-line tool (`httpx._main`) whenever click and rich are
# installed (textual and uvicorn bring both): about 0.3 s of every CLI command's start, spent
# on click, rich and pygments that crewdash's clients never use (issue 17: 1.2 s to a batch's
# first kickoff). A None entry makes that import fail, and httpx then defines a stub `main`.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # import's "no such module"

if TYPE_CHECKING:
    from crewdash.aop.client import AsyncCrewClient
    from crewdash.aop.clock import Clock, SystemClock
    from crewdash.aop.errors import (
        AlreadyAnsweredError,
        AOPError,
        AuthenticationError,
        CircuitOpenError,
        ConnectionFailedError,
        NotFoundError,
        NotPausedError,
        ProtocolError,
        RateLimitedError,
        RequestTimeoutError,
        ServerError,
        UnsupportedError,
        ValidationError,
    )
    from crewdash.aop.models import (
        CircuitState,
        HumanInputWebhook,
        InputSpec,
        InputType,
        Progress,
        ResumeResult,
        RunResult,
        RunState,
        RunStatus,
        Secret,
        StatusRoute,
        TaskOutput,
        Webhooks,
    )
    from crewdash.aop.output import output_json, parse_output
    from crewdash.aop.parse import parse_answer, parse_inputs, parse_state, parse_status
    from crewdash.aop.resilience import CircuitBreaker, RetryPolicy
    from crewdash.aop.sync_client import CrewClient

# exported name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "AsyncCrewClient": "client",
    "Clock": "clock",
    "SystemClock": "clock",
    **dict.fromkeys(
        (
            "AOPError",
            "AlreadyAnsweredError",
            "AuthenticationError",
            "CircuitOpenError",
            "ConnectionFailedError",
            "NotFoundError",
            "NotPausedError",
            "ProtocolError",
            "RateLimitedError",
            "RequestTimeoutError",
            "ServerError",
            "UnsupportedError",
            "ValidationError",
        ),
        "errors",
    ),
    **dict.fromkeys(
        (
            "CircuitState",
            "HumanInputWebhook",
            "InputSpec",
            "InputType",
            "Progress",
            "ResumeResult",
            "RunResult",
            "RunState",
            "RunStatus",
            "Secret",
            "StatusRoute",
            "TaskOutput",
            "Webhooks",
        ),
        "models",
    ),
    "output_json": "output",
    "parse_output": "output",
    **dict.fromkeys(("parse_answer", "parse_inputs", "parse_state", "parse_status"), "parse"),
    "CircuitBreaker": "resilience",
    "RetryPolicy": "resilience",
    "CrewClient": "sync_client",
}

__all__ = [
    "AOPError",
    "AlreadyAnsweredError",
    "AsyncCrewClient",
    "AuthenticationError",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Clock",
    "ConnectionFailedError",
    "CrewClient",
    "HumanInputWebhook",
    "InputSpec",
    "InputType",
    "NotFoundError",
    "NotPausedError",
    "Progress",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ResumeResult",
    "RetryPolicy",
    "RunResult",
    "RunState",
    "RunStatus",
    "Secret",
    "ServerError",
    "StatusRoute",
    "SystemClock",
    "TaskOutput",
    "UnsupportedError",
    "ValidationError",
    "Webhooks",
    "output_json",
    "parse_answer",
    "parse_inputs",
    "parse_output",
    "parse_state",
    "parse_status",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # AttributeError (not ImportError) lets `from crewdash.aop import calls` find submodules
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"crewdash.aop.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
