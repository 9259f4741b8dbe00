"""`crewdash kickoff CREW -i key=value ...`: start one run, optionally wait for its end."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, add_crew, add_timeout

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "kickoff",
        help="start a run of a crew or flow",
        description="Start a run. Values are converted with the crew's input specs "
        "(-i age=35 sends the integer 35 when the crew says integer); a wrong or missing "
        "value is refused before anything is sent. The kickoff is written to the run store "
        "before it is sent, so it is never lost and never sent twice. The kickoff sends no "
        "webhook URLs, even when a receiver is configured: a one-shot command cannot receive "
        "deliveries after it exits. With --wait (or `crewdash watch`) a pause for human "
        "input is seen by polling and answered with `crewdash resume`; run `crewdash "
        "dashboard` to have kickoffs advertise the receiver.",
    )
    add_crew(parser)
    parser.add_argument(
        "-i",
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an input value (repeatable); wins over --inputs-file",
    )
    parser.add_argument(
        "--inputs-file", metavar="FILE", help="a JSON object of input values (already typed)"
    )
    parser.add_argument(
        "--wait", action="store_true", help="follow the run until it ends (exit 1 on error)"
    )
    add_timeout(parser, "waiting (with --wait)")
    parser.set_defaults(handler="crewdash.commands.kickoff:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    # Graceful: Ctrl+C during the POST lets it finish, so its id is saved, never lost.
    return run_command(args, _kickoff, graceful=True)


async def _kickoff(session: Session) -> int:
    import time
    from pathlib import Path

    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import (
        config_from,
        crew_client,
        crew_from,
        open_store,
        pacer_of,
        running_engine,
    )
    from crewdash.commands.support.follow import finish, follow, resume_hint
    from crewdash.commands.support.render import run_json
    from crewdash.commands.support.values import build_inputs, parse_assignments, read_inputs_file
    from crewdash.core.runs.kickoff import start_run

    args = session.args
    out = session.out
    config = config_from(args)
    crew = crew_from(config, args.crew)
    texts = parse_assignments(args.inputs)
    typed = read_inputs_file(Path(args.inputs_file)) if args.inputs_file else None
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with open_store(args) as store:
        async with crew_client(crew, store) as client:
            specs = await client.inputs()
            inputs = build_inputs(specs, typed=typed, texts=texts)
            if session.interrupted.is_set():
                return ExitCode.INTERRUPTED  # nothing was sent
            run = await start_run(store, client, crew.name, inputs, pacer=pacer_of(client))
        out.emit(run_json(run, type_="kickoff"), str(run.kickoff_id))
        out.info(f"started {crew.name} run {run.kickoff_id}")
        if session.interrupted.is_set():
            session.resume_hint = resume_hint([run])
            return ExitCode.INTERRUPTED
        if not args.wait:
            return ExitCode.OK
        session.resume_hint = resume_hint([run])
        async with running_engine(config, store, [crew.name], out.info) as engine:
            result = await follow(session, engine, [run.local_id], deadline=deadline)
        code = finish(session, result)
        final = result.runs.get(run.local_id)
        if result.outcome == "done" and final is not None and final.result is not None:
            out.text(final.result.output)
        return code
