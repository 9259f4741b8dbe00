"""`crewdash runs`: the runs the store knows, newest first, with filters."""

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
        "runs",
        help="list the runs in the local store",
        description="List the runs crewdash has started or tracked (from the local run "
        "store; nothing is asked of the deployments), newest first.",
    )
    add_run_filters(parser)
    parser.set_defaults(handler="crewdash.commands.runs:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _runs)


async def _runs(session: Session) -> int:
    from crewdash.commands.support.context import open_store
    from crewdash.commands.support.render import run_json, run_line
    from crewdash.commands.support.select import select_runs

    with open_store(session.args) as store:
        runs = select_runs(store, session.args)
    for run in runs:
        session.out.emit(run_json(run), run_line(run))
    if not runs:
        session.out.info("no runs match")
    return 0
