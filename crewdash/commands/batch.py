"""`crewdash batch CREW FILE`: one run per row of a JSONL or CSV file, resumable.

Every row is checked against the crew's input specs before the first kickoff is sent. Each
kickoff goes through the store (intent first, then the POST, then the id), so Ctrl+C loses
nothing: the first Ctrl+C stops starting rows and lets the kickoffs on the wire finish, and the
same command run again skips every row already kicked off.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crewdash.commands.support.common import add_command, add_crew, positive_int

if TYPE_CHECKING:
    from pathlib import Path

    from crewdash.aop import AsyncCrewClient
    from crewdash.commands.support.batchfile import BatchRow
    from crewdash.commands.support.runner import Session
    from crewdash.core.models import RunRecord
    from crewdash.core.runs.batch import BatchProgress, BatchResult
    from crewdash.core.store.database import RunStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "batch",
        help="start one run per row of a JSONL or CSV file (resumable)",
        description="Start one run per row of FILE: JSONL (one JSON object of inputs per "
        "line) or CSV (a header row naming the inputs; empty cells are left out). All rows "
        "are checked before anything is sent. Concurrency starts at --concurrency (fewer when "
        "the crew's learnt rate says they will do) and halves on 429/5xx; every request waits "
        "for the crew's pace (learnt from 429s, requests spaced evenly). A 429 or "
        "503 sends the same row again. Ctrl+C stops starting rows and lets those on the wire "
        "finish; the same command again carries on: it sends the rows that never reached the "
        "server and never those that may have (unknown: see adopt, resend, dismiss). Exits "
        "non-zero, with an account of every row not accepted, unless every row is accepted.",
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
    parser.add_argument(
        "--resend-unknown",
        action="store_true",
        help="also send again the rows an earlier run left unknown (they may have started a "
        "run: asks first, or pass --yes)",
    )
    from crewdash.commands.support.unknown import add_yes

    add_yes(parser)
    parser.set_defaults(handler="crewdash.commands.batch:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _batch, graceful=True)


async def _batch(session: Session) -> int:
    from pathlib import Path

    from crewdash.commands.support.batchfile import read_batch
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import config_from, crew_client, crew_from, open_store
    from crewdash.core.runs.batch import batch_key

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    path = Path(args.file)
    with open_store(args) as store:
        async with crew_client(crew, store) as client:
            rows = read_batch(path, await client.inputs())
            inputs = [row.inputs for row in rows]
            key = f"{crew.name}:{batch_key(inputs)}"
            if session.interrupted.is_set():
                return ExitCode.INTERRUPTED  # nothing was sent
            if args.resend_unknown:
                _confirm_resend_unknown(session, store, key, len(inputs))
            session.out.info(f"batch {key.split(':', 1)[1][:12]}: {len(rows)} rows for {crew.name}")
            result = await _send_rows(session, store, client, crew.name, key, inputs)
    session.out.end_progress()
    account = _account(rows, result)
    _report(session, crew.name, path, key, result, rows, account)
    return _exit_code(session, result)


def _confirm_resend_unknown(session: Session, store: RunStore, key: str, count: int) -> None:
    """`--resend-unknown`: ask first when an earlier run of the batch left rows unknown."""
    from crewdash.commands.support.unknown import confirm_duplicate_risk
    from crewdash.core.models import KickoffPhase

    earlier = [
        n
        for n in range(count)
        if (local_id := store.batch_row_done(key, str(n))) is not None
        and (run := store.get(local_id)) is not None
        and run.phase is KickoffPhase.UNKNOWN
    ]
    if earlier:
        confirm_duplicate_risk(session, f"resend {len(earlier)} unknown row(s) of this batch")


async def _send_rows(
    session: Session,
    store: RunStore,
    client: AsyncCrewClient,
    crew: str,
    key: str,
    inputs: list[dict[str, Any]],
) -> BatchResult:
    """Kick off the rows, with progress on stderr and one record per run started."""
    from crewdash.commands.support.context import pacer_of
    from crewdash.commands.support.render import run_json
    from crewdash.core.runs.batch import run_batch

    out = session.out

    def on_progress(progress: BatchProgress) -> None:
        out.progress(progress.done, progress.total, f"limit {progress.limit}")

    def on_started(run: RunRecord) -> None:
        out.record({**run_json(run, type_="kickoff")})

    return await run_batch(
        store,
        client,
        crew,
        inputs,
        key=key,
        max_concurrency=session.args.concurrency,
        on_progress=on_progress,
        on_started=on_started,
        stop=session.interrupted,  # Ctrl+C: start no more rows, finish those sent
        pacer=pacer_of(client),
        resend_unknown=session.args.resend_unknown,
    )


def _account(rows: list[BatchRow], result: BatchResult) -> list[dict[str, Any]]:
    """The rows not accepted, numbered as in the file (rows a stop left alone are left out:
    the next run sends them)."""
    account = [
        {**row, "row": rows[row["index"]].number}
        for row in result.account()
        if not (result.stopped and row["phase"] == "not_started")
    ]
    for row in account:
        del row["index"]
    return account


def _report(
    session: Session,
    crew: str,
    path: Path,
    key: str,
    result: BatchResult,
    rows: list[BatchRow],
    account: list[dict[str, Any]],
) -> None:
    """The summary record, then the same in words with what to do next."""
    out = session.out
    progress = result.progress
    errors = {str(rows[index].number): message for index, message in sorted(result.errors.items())}
    out.record(
        {
            "type": "batch",
            "crew": crew,
            "file": str(path),
            "batch_key": key,
            "total": progress.total,
            "skipped": progress.skipped,
            "accepted": progress.accepted,
            "refused": progress.refused,
            "unknown": progress.unknown,
            "busy": progress.busy,
            "not_started": progress.not_started,
            "errors": errors,
            "not_accepted": account,
        }
    )
    out.info(
        f"{progress.accepted} started, {progress.skipped} already started earlier, "
        f"{progress.refused} refused, {progress.unknown} unknown, "
        + (f"{progress.busy} being sent by another process, " if progress.busy else "")
        + f"{progress.not_started} not started"
    )
    unit = "line" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "row"
    for row in account:
        local = f" (run {row['local_id']})" if row["local_id"] else ""
        why = row["reason"] or row["phase"].replace("_", " ")
        out.info(f"  {unit} {row['row']}{local}: {row['phase']}: {why}")
    if progress.unknown:
        out.info(
            f"unknown rows may have started a run: `crewdash runs --crew {crew} --phase "
            "unknown`, then adopt, resend or dismiss each (or run this batch again with "
            "--resend-unknown)"
        )
    if progress.accepted or progress.skipped:
        out.info(f"follow the runs with `crewdash watch {crew}`")


def _exit_code(session: Session, result: BatchResult) -> int:
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.errors import exit_code_for

    if result.stopped:
        session.resume_hint = "run the same command again to start the remaining rows"
        return ExitCode.INTERRUPTED
    if not result.progress.all_accepted:
        if result.first_error is not None:
            return exit_code_for(result.first_error)
        return ExitCode.NETWORK
    return ExitCode.OK
