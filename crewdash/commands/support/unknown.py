"""What `crewdash adopt|resend|dismiss CREW RUN` share: resolving a kickoff whose outcome is
unknown.

RUN is the run's local id (or a unique prefix of it, or its request id), as `crewdash runs
--phase unknown` shows it. Every action is written to the store's audit trail first.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session

_RUN_HELP = "the run's local id (or a unique prefix), as `crewdash runs --phase unknown` shows"


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        action="store_true",
        help="do not ask: accept the risk of a duplicate run (for scripts)",
    )


def confirm_duplicate_risk(session: Session, what: str) -> None:
    """Ask on the terminal (stderr/stdin) unless --yes; CliError when not confirmed."""
    import sys

    from crewdash.commands.support.errors import CliError
    from crewdash.core.runs.resolve import DUPLICATE_RISK

    if getattr(session.args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise CliError(
            f"{what}: {DUPLICATE_RISK}; pass --yes to send anyway", kind="needs_confirmation"
        )
    session.out.info(f"{what}: {DUPLICATE_RISK}.")
    sys.stderr.write("Send again? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise CliError("not sent", kind="not_confirmed")


def handle_adopt(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _adopt)


def handle_resend(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _resend)


def handle_dismiss(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _dismiss)


async def _adopt(session: Session) -> int:
    from crewdash.commands.support.context import config_from, crew_client, crew_from, open_store
    from crewdash.commands.support.render import run_json
    from crewdash.core.runs import resolve

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        record = resolve.find_run(store, crew.name, args.run)
        async with crew_client(crew, store) as client:
            updated, _ = await resolve.adopt(store, client, record, args.kickoff_id)
    session.out.emit(
        run_json(updated, type_="adopted"),
        f"run {updated.local_id} adopted as {updated.kickoff_id} ({updated.state})",
    )
    if not updated.is_final:
        session.out.info(f"follow it with `crewdash watch {crew.name}`")
    return 0


async def _resend(session: Session) -> int:
    from crewdash.commands.support.context import (
        config_from,
        crew_client,
        crew_from,
        open_store,
        pacer_of,
    )
    from crewdash.commands.support.render import run_json
    from crewdash.core.runs import resolve

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        record = resolve.find_run(store, crew.name, args.run)
        if record.phase.value != "unknown":
            raise resolve.ResolveError(
                f"run {record.local_id} is {record.phase}, not unknown: only an unknown "
                "kickoff can be sent again"
            )
        confirm_duplicate_risk(session, f"resend run {record.local_id}")
        async with crew_client(crew, store) as client:
            updated = await resolve.resend(store, client, record, pacer=pacer_of(client))
    session.out.emit(
        run_json(updated, type_="kickoff"),
        f"run {updated.local_id} sent again: {updated.kickoff_id}",
    )
    session.out.info(f"follow it with `crewdash watch {crew.name}`")
    return 0


async def _dismiss(session: Session) -> int:
    from crewdash.commands.support.context import config_from, crew_from, open_store
    from crewdash.commands.support.render import run_json
    from crewdash.core.runs import resolve

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        record = resolve.find_run(store, crew.name, args.run)
        updated = resolve.dismiss(store, record, reason=args.reason)
    session.out.emit(
        run_json(updated, type_="dismissed"), f"run {updated.local_id} dismissed: not started"
    )
    return 0
