"""Failures a command reports to the operator, and the exit code of every expected error."""

from __future__ import annotations

from crewdash.aop import errors as aop_errors
from crewdash.commands.support.common import ExitCode
from crewdash.core.config.errors import ConfigError


class CliError(Exception):
    """An expected failure: one line for the operator, a kind for `--json`, an exit code."""

    def __init__(self, message: str, *, code: ExitCode = ExitCode.USAGE, kind: str = "usage"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind

    def __str__(self) -> str:
        return self.message


_AOP_CODES: tuple[tuple[type[aop_errors.AOPError], ExitCode], ...] = (
    (aop_errors.AuthenticationError, ExitCode.AUTH),
    (aop_errors.ValidationError, ExitCode.USAGE),  # NotPausedError included
    (aop_errors.NotFoundError, ExitCode.USAGE),
    (aop_errors.UnsupportedError, ExitCode.USAGE),
    (aop_errors.AlreadyAnsweredError, ExitCode.OK),
    (aop_errors.RateLimitedError, ExitCode.NETWORK),
    (aop_errors.ServerError, ExitCode.NETWORK),
    (aop_errors.RequestTimeoutError, ExitCode.NETWORK),
    (aop_errors.ConnectionFailedError, ExitCode.NETWORK),
    (aop_errors.CircuitOpenError, ExitCode.NETWORK),
    (aop_errors.ProtocolError, ExitCode.NETWORK),
)


def exit_code_for(error: BaseException) -> ExitCode:
    if isinstance(error, CliError):
        return error.code
    if isinstance(error, aop_errors.AOPError):
        for cls, code in _AOP_CODES:
            if isinstance(error, cls):
                return code
        return ExitCode.NETWORK
    return ExitCode.USAGE


def kind_for(error: BaseException) -> str:
    if isinstance(error, CliError | aop_errors.AOPError):
        return error.kind
    if isinstance(error, ConfigError):
        return "config"
    from crewdash.core.runs.resolve import ResolveError
    from crewdash.core.store.database import StoreError, StoreOpenError

    if isinstance(error, StoreOpenError):
        return "store"
    if isinstance(error, StoreError | ResolveError):
        return "run"
    return "usage"
