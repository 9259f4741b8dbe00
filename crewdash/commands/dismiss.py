"""`crewdash dismiss CREW RUN`: the operator says an unknown kickoff did not start."""

from __future__ import annotations

import argparse

from crewdash.commands.support.common import add_command, add_crew

_RUN_HELP = "the run's local id (or a unique prefix), as `crewdash runs --phase unknown` shows"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dismiss = add_command(
        subparsers,
        "dismiss",
        help="say that an unknown kickoff did not start a run",
        description="Mark an UNKNOWN kickoff as not started (refused): you checked the "
        "deployment and it has no such run. It will not be sent again unless you ask.",
    )
    add_crew(dismiss)
    dismiss.add_argument("run", metavar="RUN", help=_RUN_HELP)
    dismiss.add_argument("--reason", default="", help="why, for the audit trail")
    dismiss.set_defaults(handler="crewdash.commands.support.unknown:handle_dismiss")
