"""`crewdash audit`: every human decision and operator action in the store, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, non_negative_int

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session
    from crewdash.core.audit import AuditEntry, AuditFilter
    from crewdash.core.store.database import RunStore

PAGE = 500  # rows read from the store at a time (keyset pages: each one as fast as the first)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "audit",
        help="list every human decision and operator action, newest first",
        description="The audit trail of the local store: answers to human-input requests "
        "and actions on runs (kickoff, stop, adopt, resend, dismiss, automatic adoption), "
        "with who (user@host), when, through which channel (dashboard, cli:COMMAND, "
        "webhook) and what the server answered. Nothing is asked of the deployments.",
    )
    parser.add_argument("--since", metavar="WHEN", help="only since: 30m, 24h, 7d or an ISO date")
    parser.add_argument("--crew", metavar="CREW", help="only this crew's")
    parser.add_argument(
        "--run",
        metavar="ID",
        help="only this run's: local id (or 4+ first characters), request id or kickoff id",
    )
    parser.add_argument("--operator", metavar="USER", help="only this user's (or USER@HOST)")
    parser.add_argument(
        "--format", choices=("table", "csv"), default="table", help="default: table"
    )
    parser.add_argument(
        "--limit",
        type=non_negative_int,
        default=PAGE,
        metavar="N",
        help=f"at most N entries, newest first (default {PAGE}; 0: all)",
    )
    parser.set_defaults(handler="crewdash.commands.audit:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _audit)


async def _audit(session: Session) -> int:
    import sys
    import time

    from crewdash.commands.support.audit_render import csv_text, entry_json, table_lines
    from crewdash.commands.support.context import open_store
    from crewdash.commands.support.errors import CliError
    from crewdash.commands.support.time import parse_since
    from crewdash.core.audit import AuditFilter

    args = session.args
    if args.json and args.format == "csv":
        raise CliError("--json and --format csv are two outputs: choose one")
    since = None if args.since is None else parse_since(args.since, now=time.time())
    where = AuditFilter(crew=args.crew, run=args.run, operator=args.operator, since=since)
    with open_store(args) as store:
        entries = _read(store, where, args.limit)
    if session.out.json_mode:
        for entry in entries:
            session.out.record(entry_json(entry))
    elif args.format == "csv":
        sys.stdout.write(csv_text(entries))
        sys.stdout.flush()
    else:
        for line in table_lines(entries):
            session.out.text(line)
    if not entries:
        session.out.info("no decisions or actions match")
    elif args.limit and len(entries) == args.limit:
        session.out.info(f"the newest {args.limit} shown; --limit 0 shows all")
    return 0


def _read(store: RunStore, where: AuditFilter, limit: int) -> list[AuditEntry]:
    """Up to `limit` entries (0: all), a keyset page at a time."""
    entries: list[AuditEntry] = []
    while True:
        want = PAGE if not limit else min(PAGE, limit - len(entries))
        page = store.audit(where, limit=want, before=entries[-1].key if entries else None)
        entries.extend(page)
        if len(page) < want or (limit and len(entries) >= limit):
            return entries
