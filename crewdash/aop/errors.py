"""The error taxonomy an operator can read.

Every failure of a call to a deployment is one of these. Messages are written for a person on
a night shift: what happened, and what to do. None of them ever carries a token: the client
builds them from the URL path and status only (see `crewdash.aop.redact`).
"""

from __future__ import annotations


class AOPError(Exception):
    """Base of every error the client raises."""

    #: short machine-readable kind, used by the CLI's `--json` output and exit codes
    kind: str = "error"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class AuthenticationError(AOPError):
    """401/403: the token is wrong or revoked. Never retried."""

    kind = "auth"


class NotFoundError(AOPError):
    """404: the run is unknown or expired, or the route does not exist."""

    kind = "not_found"


class ValidationError(AOPError):
    """400/422: the server refused the body; `missing_inputs` names what it wanted."""

    kind = "validation"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        missing_inputs: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.missing_inputs = missing_inputs


class NotPausedError(ValidationError):
    """400 from `/resume` or `/stop`: the run is not paused / already finished."""

    kind = "not_paused"


class UnsupportedError(AOPError):
    """The deployment does not offer this route (for example `/stop` answering 404/405)."""

    kind = "unsupported"


class AlreadyAnsweredError(AOPError):
    """409 from a flow callback: somebody else answered first. Not a failure of ours."""

    kind = "already_answered"


class RateLimitedError(AOPError):
    """429: `retry_after` is the delay in seconds the server asked for, if it said."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ServerError(AOPError):
    """5xx from the deployment or a proxy in front of it."""

    kind = "server"


class RequestTimeoutError(AOPError):
    """The request timed out. `may_have_reached_server` is True for read timeouts."""

    kind = "timeout"

    def __init__(self, message: str, *, may_have_reached_server: bool = True) -> None:
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server


class ConnectionFailedError(AOPError):
    """The connection failed. `may_have_reached_server` is False only when provably so
    (connection refused, DNS failure, connect timeout): only then may a kickoff be retried."""

    kind = "connection"

    def __init__(self, message: str, *, may_have_reached_server: bool) -> None:
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server


class CircuitOpenError(AOPError):
    """The per-crew circuit breaker is open: no request was sent."""

    kind = "circuit_open"

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class ProtocolError(AOPError):
    """The body was not what the API promises: not JSON, wrong shape, an HTML proxy page.
    `unreadable`: a 2xx answer whose body could not be read at all (cut, not JSON), as
    opposed to JSON of the wrong shape; an idempotent request is sent again then."""

    kind = "protocol"

    def __init__(
        self, message: str, *, status_code: int | None = None, unreadable: bool = False
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.unreadable = unreadable
