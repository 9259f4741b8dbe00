"""`crewdash resend CREW RUN [--yes]`: send an unknown kickoff again (may duplicate a run)."""

from __future__ import annotations

import argparse

from crewdash.commands.support.common import add_command, add_crew

_RUN_HELP = "the run's local id (or a unique prefix), as `crewdash runs --phase unknown` shows"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resend = add_command(
        subparsers,
        "resend",
        help="send an unknown kickoff again (may start a duplicate run)",
        description="Send an UNKNOWN kickoff again, on the same run row with a new request "
        "id. If the first request did start a run, this starts a second one: you are asked "
        "to confirm, or pass --yes.",
    )
    add_crew(resend)
    resend.add_argument("run", metavar="RUN", help=_RUN_HELP)
    from crewdash.commands.support.unknown import add_yes

    add_yes(resend)
    resend.set_defaults(handler="crewdash.commands.support.unknown:handle_resend")
