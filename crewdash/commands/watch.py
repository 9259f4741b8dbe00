"""`crewdash watch [CREW ...]`: follow every unfinished tracked run until all have ended."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, add_timeout

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "watch",
        help="follow unfinished runs until they end",
        description="Follow every unfinished run in the local store (of the given crews, or "
        "all) until all have ended, printing each change. Ctrl+C or --timeout stop watching, "
        "not the runs: everything seen is already on disk; run the command again to carry on. "
        "Exits 1 if any run ended in error or was stopped.",
    )
    parser.add_argument("crews", nargs="*", metavar="CREW", help="only runs of these crews")
    add_timeout(parser, "watching")
    parser.set_defaults(handler="crewdash.commands.watch:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _watch, graceful=True)


async def _watch(session: Session) -> int:
    import time

    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import config_from, crew_from, open_store, running_engine
    from crewdash.commands.support.follow import finish, follow, resume_hint, succeeded
    from crewdash.core.models import KickoffPhase

    args = session.args
    out = session.out
    config = config_from(args)
    for name in args.crews:
        crew_from(config, name)  # an unknown name is a usage error, not an empty watch
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with open_store(args) as store:
        wanted = set(args.crews)
        crews = wanted or {  # only the crews watched
            run.crew for run in store.unfinished() if run.phase is KickoffPhase.ACCEPTED
        }
        async with running_engine(config, store, crews, out.info) as engine:
            targets = [
                run
                for run in store.unfinished()
                if run.phase is KickoffPhase.ACCEPTED and (not wanted or run.crew in wanted)
            ]
            if not targets:
                out.info("no unfinished runs to watch")
                out.record({"type": "summary", "runs": 0, "completed": 0, "failed": 0})
                return ExitCode.OK
            out.info(f"watching {len(targets)} run{'s' if len(targets) > 1 else ''}")
            session.resume_hint = resume_hint(targets)
            result = await follow(session, engine, [r.local_id for r in targets], deadline=deadline)
    runs = list(result.runs.values())
    done = sum(1 for run in runs if succeeded(run))
    failed = len(result.failed)
    out.record(
        {
            "type": "summary",
            "runs": len(targets),
            "completed": done,
            "failed": failed,
            "unfinished": len(targets) - done - failed,
        }
    )
    out.info(f"{done} completed, {failed} failed, {len(targets) - done - failed} unfinished")
    return finish(session, result)
