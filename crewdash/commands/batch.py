"""`crewdash batch CREW FILE`: one run per row of a JSONL or CSV file, resumable.

Every row is checked against the crew's input specs before the first kickoff is sent. Each
kickoff goes through the store (intent first, then the POST, then the id), so Ctrl+C loses
nothing: the first Ctrl+C stops starting rows and lets the kickoffs on the wire finish, and the
same command run again skips every row already kicked off.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands._common import add_command, add_crew, positive_int

if TYPE_CHECKING:
    from crewdash.commands._runner import Session


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "batch",
        help="start one run per row of a JSONL or CSV file (resumable)",
        description="Start one run per row of FILE: JSONL (one JSON object of inputs per "
        "line) or CSV (a header row naming the inputs; empty cells are left out). All rows "
        "are checked before anything is sent. Concurrency adapts (halves on 429/5xx) up to "
        "--concurrency. Ctrl+C stops starting rows and lets those on the wire finish; the "
        "same command again carries on without starting any row twice.",
    )
    add_crew(parser)
    parser.add_argument("file", metavar="FILE", help="a .jsonl or .csv file of input sets")
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=4,
        metavar="N",
        help="at most N kickoffs in flight (default 4)",
    )
    parser.set_defaults(handler="crewdash.commands.batch:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands._runner import run_command

    return run_command(args, _batch, graceful=True)


async def _batch(session: Session) -> int:
    from pathlib import Path

    from crewdash.commands._batchfile import read_batch
    from crewdash.commands._common import ExitCode
    from crewdash.commands._context import config_from, crew_client, crew_from, open_store
    from crewdash.commands._errors import exit_code_for
    from crewdash.commands._render import run_json
    from crewdash.core.batch import BatchProgress, batch_key, run_batch
    from crewdash.core.models import RunRecord

    args = session.args
    out = session.out
    crew = crew_from(config_from(args), args.crew)
    path = Path(args.file)
    with open_store(args) as store:
        async with crew_client(crew, store) as client:
            rows = read_batch(path, await client.inputs())
            inputs = [row.inputs for row in rows]
            key = f"{crew.name}:{batch_key(inputs)}"
            if session.interrupted.is_set():
                return ExitCode.INTERRUPTED  # nothing was sent

            def on_progress(progress: BatchProgress) -> None:
                out.progress(progress.done, progress.total, f"limit {progress.limit}")

            def on_started(run: RunRecord) -> None:
                out.record({**run_json(run, type_="kickoff")})

            out.info(f"batch {key.split(':', 1)[1][:12]}: {len(rows)} rows for {crew.name}")
            result = await run_batch(
                store,
                client,
                crew.name,
                inputs,
                key=key,
                max_concurrency=args.concurrency,
                on_progress=on_progress,
                on_started=on_started,
                stop=session.interrupted,  # Ctrl+C: start no more rows, finish those sent
            )
    out.end_progress()
    progress = result.progress
    refused = progress.refused
    not_started = progress.not_started
    errors = {str(rows[index].number): message for index, message in sorted(result.errors.items())}
    summary = {
        "type": "batch",
        "crew": crew.name,
        "file": str(path),
        "batch_key": key,
        "total": progress.total,
        "skipped": progress.skipped,
        "accepted": progress.accepted,
        "refused": refused,
        "unknown": progress.unknown,
        "not_started": not_started,
        "errors": errors,
    }
    out.record(summary)
    out.info(
        f"{progress.accepted} started, {progress.skipped} already started earlier, "
        f"{refused} refused, {progress.unknown} unknown, "
        f"{not_started} not started"
    )
    unit = "line" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "row"
    for number, message in errors.items():
        out.info(f"  {unit} {number}: {message}")
    if progress.accepted or progress.skipped:
        out.info(f"follow the runs with `crewdash watch {crew.name}`")
    if result.stopped:
        session.resume_hint = "run the same command again to start the remaining rows"
        return ExitCode.INTERRUPTED
    if refused or progress.unknown or not_started:
        if result.first_error is not None:
            return exit_code_for(result.first_error)
        return ExitCode.NETWORK
    return ExitCode.OK
