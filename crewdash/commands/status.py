"""`crewdash status CREW KICKOFF_ID`: one run's state now, asked of the deployment."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import KICKOFF_ID_HELP, add_command, add_crew_run

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "status",
        help="show a run's state, progress, result or error",
        description="Ask the deployment for a run's state now (and record it if the run is "
        "tracked). Exits 1 when the run ended in error or was stopped.",
    )
    add_crew_run(parser, KICKOFF_ID_HELP)
    parser.set_defaults(handler="crewdash.commands.status:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _status)


async def _status(session: Session) -> int:
    import time

    from crewdash.aop.models import RunState
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import config_from, crew_client, crew_from, open_store
    from crewdash.commands.support.ids import resolve_kickoff_id
    from crewdash.commands.support.render import status_json, status_lines

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        kickoff_id = resolve_kickoff_id(store, crew.name, args.kickoff_id)
        async with crew_client(crew, store) as client:
            status = await client.status(kickoff_id)
        known = store.find_by_kickoff_id(crew.name, kickoff_id)
        if known is not None:
            store.record_status(known.local_id, status, time.time())
    session.out.record(status_json(crew.name, kickoff_id, status))
    for line in status_lines(crew.name, kickoff_id, status):
        session.out.text(line)
    if status.state in (RunState.ERROR, RunState.STOPPED):
        return ExitCode.RUN_FAILED
    return ExitCode.OK
