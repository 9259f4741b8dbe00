"""`crewdash stop CREW KICKOFF_ID`: cancel a queued or running run."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import KICKOFF_ID_HELP, add_command, add_crew_run

if TYPE_CHECKING:
    from crewdash.aop import AsyncCrewClient
    from crewdash.commands.support.runner import Session
    from crewdash.core.models import RunRecord
    from crewdash.core.store.database import RunStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "stop",
        help="cancel a queued or running run",
        description="Cancel a queued or running run. A run that has already finished, or a "
        "deployment that cannot stop runs, is a usage error (exit 2).",
    )
    add_crew_run(parser, KICKOFF_ID_HELP)
    parser.set_defaults(handler="crewdash.commands.stop:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _stop)


async def _stop(session: Session) -> int:
    import time

    from crewdash.aop.errors import AOPError
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import config_from, crew_client, crew_from, open_store
    from crewdash.commands.support.ids import resolve_kickoff_id

    args = session.args
    crew = crew_from(config_from(args), args.crew)
    with open_store(args) as store:
        kickoff_id = resolve_kickoff_id(store, crew.name, args.kickoff_id)
        known = store.find_by_kickoff_id(crew.name, kickoff_id)
        async with crew_client(crew, store) as client:
            await _send_stop(client, crew.name, kickoff_id, store, known)
            stopped_at = time.time()  # the run was still going when this answer came
            state = "stopped"
            if known is not None:  # keep the store true to the server; best effort
                try:
                    status = await client.status(kickoff_id)
                except AOPError:
                    pass
                else:
                    store.record_status(known.local_id, status, time.time(), seen_at=stopped_at)
                    state = str(status.state)
    session.out.emit(
        {"type": "stopped", "crew": crew.name, "kickoff_id": kickoff_id, "state": state},
        f"stop sent to {crew.name} {kickoff_id} (state now: {state})",
    )
    return ExitCode.OK


async def _send_stop(
    client: AsyncCrewClient,
    crew: str,
    kickoff_id: str,
    store: RunStore,
    known: RunRecord | None,
) -> None:
    """Send the stop; the server's answer goes to the run's audit trail (a run this store
    does not know has none), then a refusal becomes the operator's one-line error."""
    from crewdash.aop.errors import AOPError, NotPausedError, UnsupportedError
    from crewdash.commands.support.errors import CliError
    from crewdash.core.audit import STOP_TAKEN, answer_of_error

    what = f"kickoff id {kickoff_id}"
    try:
        await client.stop(kickoff_id)
    except AOPError as exc:
        if known is not None:
            store.record_action(known.local_id, "stop", what, server_answer=answer_of_error(exc))
        if isinstance(exc, NotPausedError):
            raise CliError(
                f"run {kickoff_id} was not stopped: it has already finished", kind="not_running"
            ) from None
        if isinstance(exc, UnsupportedError):
            raise CliError(
                f"crew {crew} cannot stop runs (this deployment has no /stop route)",
                kind="unsupported",
            ) from None
        raise
    if known is not None:
        store.record_action(known.local_id, "stop", what, server_answer=STOP_TAKEN)
