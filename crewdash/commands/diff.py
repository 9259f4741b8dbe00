"""`crewdash diff CREW RUN_A RUN_B`: two stored runs of a crew compared."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, add_crew

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session

_RUN_HELP = (
    "a run of CREW in the local store: its kickoff id, its local id, or at least 6 of the "
    "first characters of either (the dashboard shows 8)"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "diff",
        help="compare two runs of a crew: inputs, states, durations, task outputs",
        description="Compare two runs of a crew from the local store: inputs, state, "
        "duration, kickoff attempts, human decisions, each task's output (tasks matched by "
        "name) and the final output. Outputs are compared as Markdown: a paragraph wrapped "
        "differently is no change; changed words show as [-old-] {+new+}. Exits 0 whether or "
        "not the runs differ (--json says `changed`).",
    )
    add_crew(parser)
    parser.add_argument("run_a", metavar="RUN_A", help=_RUN_HELP + "; the base")
    parser.add_argument("run_b", metavar="RUN_B", help=_RUN_HELP + "; compared with RUN_A")
    parser.set_defaults(handler="crewdash.commands.diff:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _diff)


async def _diff(session: Session) -> int:
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import config_from, crew_from, open_store
    from crewdash.commands.support.diff_render import diff_lines
    from crewdash.commands.support.ids import find_stored_run
    from crewdash.core.runs.diff import diff_runs
    from crewdash.core.runs.diff_json import diff_json

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        run_a = find_stored_run(store, crew.name, args.run_a)
        run_b = find_stored_run(store, crew.name, args.run_b)
        diff = diff_runs(
            run_a,
            run_b,
            decisions_a=len(store.decisions_for_run(run_a.local_id)),
            decisions_b=len(store.decisions_for_run(run_b.local_id)),
        )
    session.out.record({**diff_json(diff), "crew": crew.name})
    for line in diff_lines(diff):
        session.out.text(line)
    return ExitCode.OK
