"""`crewdash export`: runs from the store as JSON, CSV or Markdown, to stdout or a file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command
from crewdash.commands.support.filters import add_run_filters

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "export",
        help="export runs as JSON, CSV or Markdown",
        description="Export runs from the local store: inputs, states, times, results, "
        "per-task outputs (never a token or a webhook URL). Without -o the export is "
        "written to stdout; with --json and no -o it is wrapped in one JSON object.",
    )
    add_run_filters(parser)
    parser.add_argument(
        "--format", choices=("json", "csv", "markdown"), default="json", help="default: json"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically)")
    parser.set_defaults(handler="crewdash.commands.export:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _export)


async def _export(session: Session) -> int:
    import sys
    from pathlib import Path

    from crewdash.commands.support.context import open_store
    from crewdash.commands.support.errors import CliError
    from crewdash.commands.support.select import select_runs
    from crewdash.core.runs.export import export_runs
    from crewdash.core.store.atomic import write_atomic

    args = session.args
    with open_store(args) as store:
        runs = select_runs(store, args)
        text = export_runs(runs, args.format, store)
    summary = {"type": "export", "format": args.format, "runs": len(runs)}
    if args.output:
        path = Path(args.output)
        try:
            write_atomic(path, text.encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
        session.out.record({**summary, "file": str(path)})
        session.out.info(f"exported {len(runs)} runs to {path} ({args.format})")
    elif session.out.json_mode:
        session.out.record({**summary, "content": text})
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
