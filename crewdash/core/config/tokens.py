"""Turning a crew's token source into the token: inline, environment variable or command.

The value is wrapped in a `Secret` at once. No message built here contains it: a failing
command is reported by its exit status and the first line of its stderr, never its stdout.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from crewdash.aop.models import Secret
from crewdash.core.config.errors import ConfigError
from crewdash.core.config.model import CrewConfig

#: seconds a `token_command` may take (a password manager may ask for a PIN on a tty)
TOKEN_COMMAND_TIMEOUT = 30.0
_STDERR_LINE_MAX = 200


def resolve_token(crew: CrewConfig, *, timeout: float = TOKEN_COMMAND_TIMEOUT) -> Secret:
    """The crew's token. ConfigError (naming file, table and key) if it cannot be had."""
    source = crew.token
    table = f"crews.{crew.name}"
    if source.inline is not None:
        if not source.inline.reveal().strip():
            raise ConfigError(
                "the token is empty.", file=crew.source_file, table=table, key="token"
            )
        return Secret(source.inline.reveal().strip())
    if source.env:
        return _from_env(source.env, crew, table)
    if source.command:
        return _from_command(source.command, crew, table, timeout)
    raise ConfigError(
        "no token source: set one of token_env, token_command or token.",
        file=crew.source_file,
        table=table,
    )


def _from_env(var: str, crew: CrewConfig, table: str) -> Secret:
    value = os.environ.get(var)
    if value is None:
        raise ConfigError(
            f"the environment variable ${var} is not set in this shell; export it, "
            "or choose another token source.",
            file=crew.source_file,
            table=table,
            key="token_env",
        )
    if not value.strip():
        raise ConfigError(
            f"the environment variable ${var} is set but empty.",
            file=crew.source_file,
            table=table,
            key="token_env",
        )
    return Secret(value.strip())


def _from_command(command: str, crew: CrewConfig, table: str, timeout: float) -> Secret:
    def fail(problem: str) -> ConfigError:
        return ConfigError(problem, file=crew.source_file, table=table, key="token_command")

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise fail(f"the command cannot be split into words ({exc}).") from None
    if not argv:
        raise fail("the command is empty.")
    try:
        # No shell: the command is the program and its arguments, nothing is interpolated.
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise fail(f"the program {argv[0]!r} was not found.") from None
    except PermissionError:
        raise fail(f"the program {argv[0]!r} is not executable.") from None
    except subprocess.TimeoutExpired:
        # `from None`: TimeoutExpired carries the partial stdout, which may hold the token.
        raise fail(f"the command did not finish within {timeout:g} seconds.") from None
    stdout = done.stdout.decode("utf-8", errors="replace")
    # Convention of pass and friends: the secret is the first line, metadata may follow.
    lines = stdout.splitlines()
    token = lines[0].strip() if lines else ""
    if done.returncode != 0:
        detail = _first_line(done.stderr.decode("utf-8", errors="replace"), token)
        said = f": {detail}" if detail else " (it wrote nothing to stderr)"
        raise fail(f"the command failed with exit status {done.returncode}{said}")
    if not token:
        raise fail("the command succeeded but printed no token on its first line.")
    return Secret(token)


def _first_line(text: str, token: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            if token and token in line:  # a careless tool echoing the secret on stderr
                line = line.replace(token, "****")
            return line[:_STDERR_LINE_MAX]
    return ""
