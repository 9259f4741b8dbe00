"""`crewdash adopt CREW RUN KICKOFF_ID`: attach the id of an unknown kickoff, checked first."""

from __future__ import annotations

import argparse

from crewdash.commands.support.common import add_command, add_crew

_RUN_HELP = "the run's local id (or a unique prefix), as `crewdash runs --phase unknown` shows"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    adopt = add_command(
        subparsers,
        "adopt",
        help="attach the kickoff id of an unknown kickoff, found in the AOP dashboard",
        description="An UNKNOWN kickoff (crewdash could not tell whether the server started "
        "it) gets the kickoff id you found in the AOP dashboard. The id is checked with a "
        "status call first; then the run is followed like any other (`crewdash watch CREW`).",
    )
    add_crew(adopt)
    adopt.add_argument("run", metavar="RUN", help=_RUN_HELP)
    adopt.add_argument("kickoff_id", metavar="KICKOFF_ID", help="the id the deployment gave it")
    adopt.set_defaults(handler="crewdash.commands.support.unknown:handle_adopt")
