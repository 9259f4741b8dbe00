"""crewdash.aop: a client for CrewAI AOP deployments, usable on its own.

`AsyncCrewClient` and `CrewClient` share one I/O-free core (`crewdash.aop.protocol`): request
specs (`calls`), parsers (`parse`, `output`), error mapping (`classify`) and policies
(`resilience`)."""

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
