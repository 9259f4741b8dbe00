"""`crewdash resume CREW KICKOFF_ID ...`: answer a run waiting for human input.

The answer goes through the engine's inbox: the decision is written to the audit trail
first, then sent (`/resume` with the kickoff's webhook URLs, or the flow's callback URL),
then its outcome is recorded.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crewdash.commands.support.common import KICKOFF_ID_HELP, add_command, add_crew_run

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session
    from crewdash.core.config.model import CrewConfig
    from crewdash.core.engine import Engine
    from crewdash.core.models import AnswerOutcome, DecisionRecord, HumanRequest, RunRecord
    from crewdash.core.store.database import RunStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "resume",
        help="answer a run that waits for human input",
        description="Answer a human-input request: for a crew, approve or reject (rejecting "
        "re-runs the task with your feedback); for a flow, pick one of its outcomes. The "
        "decision is recorded in the audit trail before it is sent, and one request gets one "
        "answer from all the crewdash processes sharing the run store. Exits 0 also when "
        "somebody else answered first (said so on stderr, with who, how and when when the "
        "audit trail knows), 2 when the run is not waiting or another round waits.",
    )
    add_crew_run(parser, KICKOFF_ID_HELP + " (or a flow request id)")
    parser.add_argument("--task", metavar="TASK_ID", help="the task waiting for review")
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true", help="crews: accept the output")
    choice.add_argument("--reject", action="store_true", help="crews: ask for changes")
    choice.add_argument("--outcome", metavar="NAME", help="flows: one of the allowed outcomes")
    parser.add_argument("--feedback", default="", metavar="TEXT", help="what you have to say")
    parser.add_argument(
        "--attempt",
        type=int,
        metavar="N",
        help="answer only round N of the pause (1, then 2, 3, ... after each 'request changes', "
        "as `status` shows it): refused when another round waits, said when somebody answered "
        "round N already",
    )
    parser.set_defaults(handler="crewdash.commands.resume:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    # Graceful: once sent, an answer's outcome is recorded even if Ctrl+C comes meanwhile.
    return run_command(args, _resume, graceful=True)


def _matches(req: HumanRequest, crew: str, key: str, task: str | None) -> bool:
    return (
        req.crew == crew
        and key in (req.kickoff_id, req.id, req.flow_request_id)
        and (task is None or req.task_id == task)
    )


def _refuse_other_round(store: RunStore, crew: str, kickoff_id: str, attempt: int) -> None:
    """`--attempt N` and round N is not known while another round is: say which waits."""
    from crewdash.commands.support.errors import CliError

    waiting = [r for r in store.pending_requests_of(crew, kickoff_id) if r.attempt != attempt]
    if waiting:
        newest = max(waiting, key=lambda r: r.attempt)
        raise CliError(
            f"round {attempt} of run {kickoff_id} is not the one waiting: round "
            f"{newest.attempt} ({newest.task_id}) waits now; read its output "
            f"(crewdash status {crew} {kickoff_id}) and answer it with --attempt "
            f"{newest.attempt}",
            kind="superseded",
        )


def _answered_while_running(
    store: RunStore, crew: str, run: RunRecord | None
) -> DecisionRecord | None:
    """The operator decision that made a run that is going on (not final) leave its pause:
    what a process that came too late is told."""
    from crewdash.core.inbox.inbox import OBSERVER
    from crewdash.core.models import AnswerOutcome

    if run is None or run.is_final:
        return None
    answers = [
        d
        for d in store.decisions_for_run(run.local_id)
        if d.user != OBSERVER and d.result in (AnswerOutcome.ACCEPTED, AnswerOutcome.PENDING)
    ]
    return answers[-1] if answers else None


async def _resume(session: Session) -> int:
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import (
        config_from,
        crew_from,
        open_store,
        running_engine,
    )
    from crewdash.commands.support.errors import CliError
    from crewdash.commands.support.ids import resolve_kickoff_id

    args = session.args
    if args.reject and not args.feedback.strip():
        raise CliError("--reject needs --feedback TEXT saying what to change")
    config = config_from(args)
    crew = crew_from(config, args.crew)
    with open_store(args) as store:
        if store.get_request(args.kickoff_id) is None:  # not a flow request id: a kickoff id
            args.kickoff_id = resolve_kickoff_id(store, crew.name, args.kickoff_id)
        async with running_engine(config, store, [crew.name], session.out.info) as engine:
            found = await _find_pause(session, store, engine, crew)
            if found is None:
                return ExitCode.OK  # answered already, by somebody else: said so
            req = _the_request(args, found)
            outcome, said, now = await _send_answer(args, store, engine, req)
    return _report(session, crew.name, req, outcome, said, now)


def _find(store: RunStore, crew: str, args: argparse.Namespace) -> list[HumanRequest]:
    """The requests the command line names: that round with `--attempt` (answered or not),
    else every one that waits."""
    if args.attempt is not None:
        everything = store.requests_of(crew, args.kickoff_id)
        if req_id := store.get_request(args.kickoff_id):
            everything.append(req_id)
        return [
            req
            for req in everything
            if _matches(req, crew, args.kickoff_id, args.task) and req.attempt == args.attempt
        ][:1]
    return [
        req for req in store.pending_requests() if _matches(req, crew, args.kickoff_id, args.task)
    ]


async def _find_pause(
    session: Session, store: RunStore, engine: Engine, crew: CrewConfig
) -> list[HumanRequest] | None:
    """The requests to answer, after polling the run or asking the deployment when the store
    knows of none; None when somebody else answered the pause already (said on the way)."""
    from crewdash.core.inbox.inbox import how_answered
    from crewdash.core.models import AnswerOutcome

    args = session.args
    found = _find(store, crew.name, args)
    run = store.find_by_kickoff_id(crew.name, args.kickoff_id)
    if not found and run is not None:
        await engine.refresh(run.local_id)  # poll now: the pause becomes a request
        found = _find(store, crew.name, args)
    if not found and args.attempt is not None:
        _refuse_other_round(store, crew.name, args.kickoff_id, args.attempt)
    if not found and (winner := _answered_while_running(store, crew.name, run)):
        session.out.emit(
            {
                "type": "answer",
                "crew": crew.name,
                "kickoff_id": args.kickoff_id,
                "request_id": winner.request_id,
                "task_id": winner.task_id,
                "outcome": str(AnswerOutcome.ANSWERED_ELSEWHERE),
                "server_answer": how_answered(winner),
            },
            f"{how_answered(winner)}; nothing was sent",
        )
        return None
    if not found:
        await _file_remote_pause(args, store, engine, crew, run)
        found = _find(store, crew.name, args)
    return found


async def _file_remote_pause(
    args: argparse.Namespace,
    store: RunStore,
    engine: Engine,
    crew: CrewConfig,
    run: RunRecord | None,
) -> None:
    """A run crewdash did not start: ask the deployment, then file the pause in the store's
    inbox (one request per pause, as any channel would) so the answer is audited like any
    other."""
    from crewdash.aop.models import RunState
    from crewdash.commands.support.context import crew_client
    from crewdash.commands.support.errors import CliError

    async with crew_client(crew, store) as client:
        status = await client.status(args.kickoff_id)
    task = status.pending_task_id or status.current_task
    if status.state is not RunState.AWAITING_INPUT or not task:
        raise CliError(
            f"run {args.kickoff_id} is not waiting for human input (state: {status.raw_state})",
            kind="not_waiting",
        )
    if args.task is not None and args.task != task:
        raise CliError(
            f"run {args.kickoff_id} waits for input on task {task!r}, not {args.task!r}",
            kind="not_waiting",
        )
    engine.inbox_.seen_polled(
        crew.name, args.kickoff_id, status, local_id=run.local_id if run else None
    )


def _the_request(args: argparse.Namespace, found: list[HumanRequest]) -> HumanRequest:
    """The one request found, if the answer on the command line fits it."""
    from crewdash.commands.support.errors import CliError

    if len(found) > 1:
        tasks = ", ".join(sorted(str(req.task_id) for req in found))
        raise CliError(f"several tasks wait for input ({tasks}): name one with --task")
    if not found:
        raise CliError(f"run {args.kickoff_id} is not waiting for human input")
    req = found[0]
    if req.is_flow and req.emit and args.outcome is None:
        raise CliError(f"this flow asks for --outcome, one of: {', '.join(req.emit)}")
    if args.outcome is not None and req.emit and args.outcome not in req.emit:
        raise CliError(
            f"outcome {args.outcome!r} is not offered; choose one of: {', '.join(req.emit)}"
        )
    return req


async def _send_answer(
    args: argparse.Namespace, store: RunStore, engine: Engine, req: HumanRequest
) -> tuple[AnswerOutcome, Any, HumanRequest | None]:
    """Answer through the engine's inbox: the outcome, what the server said, and for a
    SUPERSEDED answer the request that waits now."""
    from crewdash.commands.support.errors import CliError
    from crewdash.core.inbox.inbox import InboxError
    from crewdash.core.models import AnswerOutcome

    # With --outcome the inbox decides how it travels (callback or /resume text).
    approve = None if args.outcome is not None else bool(args.approve)
    try:
        outcome = await engine.answer(
            req.id,
            feedback=args.feedback,
            approve=approve,
            outcome=args.outcome,
            seen=req.identity,  # sent only while the run is still in this pause
        )
    except InboxError as exc:
        raise CliError(str(exc)) from None
    said = next((d.get("server_answer") for d in reversed(store.decisions(req.id))), None)
    now = engine.superseded_by(req.id) if outcome is AnswerOutcome.SUPERSEDED else None
    return outcome, said, now


def _report(
    session: Session,
    crew: str,
    req: HumanRequest,
    outcome: AnswerOutcome,
    said: Any,
    now: HumanRequest | None,
) -> int:
    """The answer record, and the exit code (or the error) its outcome means."""
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.errors import CliError
    from crewdash.core.inbox.inbox import SOMEONE_ELSE
    from crewdash.core.models import AnswerOutcome

    kickoff_id = session.args.kickoff_id
    out = session.out
    record = {
        "type": "answer",
        "crew": crew,
        "kickoff_id": req.kickoff_id,
        "request_id": req.id,
        "task_id": req.task_id,
        "outcome": str(outcome),
        "server_answer": said,
    }
    if outcome is AnswerOutcome.ACCEPTED:
        out.emit(record, f"answer accepted ({said})" if said else "answer accepted")
        return ExitCode.OK
    if outcome is AnswerOutcome.ANSWERED_ELSEWHERE:
        words = (said or SOMEONE_ELSE).removeprefix("not sent: ")
        out.emit(record, f"{words}; your answer was not used")
        return ExitCode.OK
    out.record(record)
    if outcome is AnswerOutcome.SUPERSEDED:
        waits = (
            f"round {now.attempt} of task {now.task_id} waits now (request {now.id})"
            if now is not None
            else "another pause waits now"
        )
        raise CliError(
            f"not sent: run {kickoff_id} is no longer in the pause you answered; {waits}. "
            f"Read it (crewdash status {crew} {kickoff_id}) and answer it"
            + (f" with --attempt {now.attempt}" if now is not None else ""),
            kind="superseded",
        )
    if outcome is AnswerOutcome.NOT_WAITING:
        raise CliError(
            f"run {kickoff_id} is no longer waiting for input ({said})", kind="not_waiting"
        )
    raise CliError(
        f"the answer could not be delivered ({said}); it is recorded, run the same command "
        "again to retry",
        code=ExitCode.NETWORK,
        kind="answer_failed",
    )
