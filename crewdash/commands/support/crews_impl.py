"""The work behind `crewdash crews ...` (imported only when such a command runs)."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from dataclasses import dataclass
from typing import Any

from crewdash.aop import AsyncCrewClient, RetryPolicy
from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    RequestTimeoutError,
    ServerError,
)
from crewdash.aop.models import Secret
from crewdash.aop.redact import mask_url
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.context import config_from, crew_from
from crewdash.commands.support.errors import CliError
from crewdash.commands.support.runner import Session
from crewdash.core.config.load import (
    ConfigError,
    crew_name_problem,
    load_config,
    remove_crew,
    resolve_config_path,
    resolve_token,
    save_crew,
    url_problem,
    url_warning,
)
from crewdash.core.config.model import Config, CrewConfig, CrewKind, NotifyRules, TokenSource
from crewdash.core.config.notify import as_json as notify_json
from crewdash.core.config.notify import describe as describe_notify


def _warn_all(session: Session, config: Config) -> None:
    for warning in config.warnings:
        session.out.info(f"crewdash: warning: {warning}")


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


# -- list -----------------------------------------------------------------------------------


def crew_json(crew: CrewConfig) -> dict[str, Any]:
    return {
        "type": "crew",
        "name": crew.name,
        "kind": str(crew.kind),
        "url": mask_url(crew.url),  # a query may carry a key: values masked
        "label": crew.label,
        "token_source": crew.token.describe(),  # where from, never the token
        "poll_min": crew.poll_min,
        "poll_max": crew.poll_max,
        "connect_timeout": crew.connect_timeout,
        "read_timeout": crew.read_timeout,
        "presets": sorted(crew.presets),
        "notify": notify_json(crew.notify),
    }


def list_crews(session: Session) -> int:
    config = config_from(session.args)
    _warn_all(session, config)
    if not config.crews:
        session.out.info(
            f"no crews configured in {config.path}; add one with: crewdash crews add NAME "
            "--url URL --token-env VAR"
        )
        return ExitCode.OK
    rows = [["NAME", "KIND", "URL", "TOKEN", "LABEL"]]
    for crew in config.crews.values():
        session.out.record(crew_json(crew))
        url = mask_url(crew.url)
        rows.append([crew.name, str(crew.kind), url, crew.token.describe(), crew.label])
    notes = {  # a crew with its own notification rules gets a line under its row
        index: f"  notify: {describe_notify(crew.notify)}"
        for index, crew in enumerate(config.crews.values(), 1)
        if crew.notify != NotifyRules()
    }
    for index, line in enumerate(_table(rows)):
        session.out.text(line)
        if index in notes:
            session.out.text(notes[index])
    return ExitCode.OK


# -- add / remove ---------------------------------------------------------------------------


def _token_from_stdin(name: str) -> Secret:
    if sys.stdin.isatty():
        value = getpass.getpass(f"Token for {name} (not echoed): ")
    else:
        value = sys.stdin.readline()
    value = value.strip()
    if not value:
        raise CliError("no token on stdin", kind="usage")
    return Secret(value)


def add_crew(session: Session) -> int:
    args = session.args
    path = resolve_config_path(args.config)
    for problem in (crew_name_problem(args.name), url_problem(args.url)):
        if problem:
            raise CliError(problem)
    config = load_config(path)
    if args.name in config.crews and not args.replace:
        raise CliError(
            f"a crew named {args.name!r} already exists in {path}; pass --replace to replace it "
            f"or remove it first (crewdash crews remove {args.name})"
        )
    if args.token_env:
        source = TokenSource(env=args.token_env)
    elif args.token_command:
        source = TokenSource(command=args.token_command)
    else:
        source = TokenSource(inline=_token_from_stdin(args.name))
    crew = CrewConfig(
        name=args.name, url=args.url, token=source, kind=CrewKind(args.kind), label=args.label
    )
    save_crew(path, crew)
    warning = url_warning(args.url)
    if warning:
        session.out.info(f"crewdash: warning: {warning}")
    if source.env and source.env not in os.environ:
        session.out.info(
            f"note: ${source.env} is not set in this shell; crewdash reads it when it runs"
        )
    if source.inline is not None:
        session.out.info(f"the token is stored in {path}, kept readable by you only (mode 0600)")
    session.out.emit(
        {"type": "crew_added", **crew_json(crew), "config": str(path)},
        f"added {crew.kind} {crew.name!r} ({mask_url(crew.url)}), token: {source.describe()}, "
        f"to {path}",
    )
    session.out.info(f"check it with: crewdash crews test {crew.name}")
    return ExitCode.OK


def remove_crew_command(session: Session) -> int:
    path = resolve_config_path(session.args.config)
    try:
        remove_crew(path, session.args.name)
    except ConfigError as exc:
        raise CliError(exc.message, kind="unknown_crew") from None
    session.out.emit(
        {"type": "crew_removed", "name": session.args.name, "config": str(path)},
        f"removed crew {session.args.name!r} from {path}",
    )
    return ExitCode.OK


# -- test -----------------------------------------------------------------------------------

OK, SLOW, REJECTED, NO_TOKEN, OFFLINE, BAD = (
    "ok",
    "slow",
    "token rejected",
    "no token",
    "offline",
    "bad response",
)
_PASSING = (OK, SLOW)


@dataclass(frozen=True, slots=True)
class Probe:
    crew: str
    verdict: str
    latency: float | None = None  # seconds, health call
    inputs: int | None = None
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict in _PASSING

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "crew_test",
            "crew": self.crew,
            "verdict": self.verdict,
            "ok": self.passed,
            "latency_ms": None if self.latency is None else round(self.latency * 1000, 1),
            "inputs": self.inputs,
            "detail": self.detail,
        }

    def row(self) -> list[str]:
        latency = "-" if self.latency is None else f"{self.latency * 1000:.0f} ms"
        inputs = "-" if self.inputs is None else str(self.inputs)
        return [self.crew, self.verdict, latency, inputs, self.detail]


def _verdict_for(error: AOPError) -> str:
    if isinstance(error, AuthenticationError):
        return REJECTED
    if isinstance(error, ConnectionFailedError | RequestTimeoutError | CircuitOpenError):
        return OFFLINE
    if isinstance(error, ServerError) and error.status_code in (502, 503, 504):
        return OFFLINE  # a gateway saying the deployment behind it is down
    return BAD


async def probe(crew: CrewConfig, slow: float) -> Probe:
    """Health, then inputs, of one crew: one attempt each, no retries, so the answer is honest."""
    try:
        # token_command may block on a subprocess: keep the loop free for the other crews
        token = await asyncio.to_thread(resolve_token, crew)
    except ConfigError as exc:
        return Probe(crew.name, NO_TOKEN, detail=exc.problem)
    latency: float | None = None
    try:
        async with AsyncCrewClient(
            crew.url,
            token,
            connect_timeout=crew.connect_timeout,
            read_timeout=crew.read_timeout,
            retry=RetryPolicy.none(),
        ) as client:
            latency = await client.health()
            specs = await client.inputs()
    except AOPError as exc:
        return Probe(crew.name, _verdict_for(exc), latency=latency, detail=exc.message)
    if latency > slow:
        detail = f"health took more than {slow:g} s"
        return Probe(crew.name, SLOW, latency=latency, inputs=len(specs), detail=detail)
    return Probe(crew.name, OK, latency=latency, inputs=len(specs))


def exit_code(probes: list[Probe]) -> ExitCode:
    verdicts = {p.verdict for p in probes}
    if REJECTED in verdicts:
        return ExitCode.AUTH
    if verdicts & {OFFLINE, BAD}:
        return ExitCode.NETWORK
    if NO_TOKEN in verdicts:
        return ExitCode.USAGE
    return ExitCode.OK


async def check_crews(session: Session) -> int:
    config = config_from(session.args)
    _warn_all(session, config)
    if session.args.name:
        crews = [crew_from(config, session.args.name)]
    else:
        crews = list(config.crews.values())
    if not crews:
        raise CliError(
            f"no crews configured in {config.path}; add one with: crewdash crews add NAME "
            "--url URL --token-env VAR",
            kind="no_crews",
        )
    probes = list(await asyncio.gather(*(probe(crew, session.args.slow) for crew in crews)))
    rows = [["CREW", "VERDICT", "LATENCY", "INPUTS", "DETAIL"]]
    for result in probes:
        session.out.record(result.as_json())
        rows.append(result.row())
    for line in _table(rows):
        session.out.text(line)
    failed = [p.crew for p in probes if not p.passed]
    if failed:
        session.out.info(
            f"crewdash: {len(failed)} of {len(probes)} crews failed: {', '.join(failed)}"
        )
    return exit_code(probes)
