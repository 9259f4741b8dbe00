"""`crewdash inputs CREW`: the inputs a crew's kickoff takes (name, type, required, ...)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, add_crew

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "inputs",
        help="list the inputs a crew's kickoff takes",
        description="Ask a crew which inputs its kickoff takes: name, type, required, "
        "default, choices. With --json, one object per input.",
    )
    add_crew(parser)
    parser.set_defaults(handler="crewdash.commands.inputs:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _inputs)


async def _inputs(session: Session) -> int:
    from crewdash.commands.support.context import config_from, crew_client, crew_from
    from crewdash.commands.support.render import spec_json, spec_line

    crew = crew_from(config_from(session.args), session.args.crew)
    async with crew_client(crew, None) as client:
        specs = await client.inputs()
    if not specs:
        session.out.info(f"{crew.name} publishes no inputs")
    for spec in specs:
        session.out.emit(spec_json(crew.name, spec), spec_line(spec))
    return 0
