"""`crewdash resume CREW KICKOFF_ID ...`: answer a run waiting for human input.

The answer goes through the engine's inbox: the decision is written to the audit trail
first, then sent (`/resume` with the kickoff's webhook URLs, or the flow's callback URL),
then its outcome is recorded.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import KICKOFF_ID_HELP, add_command, add_crew_run

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session
    from crewdash.core.models import DecisionRecord, HumanRequest, RunRecord
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
    from crewdash.aop.models import RunState
    from crewdash.commands.support.common import ExitCode
    from crewdash.commands.support.context import (
        config_from,
        crew_client,
        crew_from,
        open_store,
        running_engine,
    )
    from crewdash.commands.support.errors import CliError
    from crewdash.commands.support.ids import resolve_kickoff_id
    from crewdash.core.inbox.inbox import SOMEONE_ELSE, InboxError, how_answered
    from crewdash.core.models import AnswerOutcome

    args = session.args
    out = session.out
    if args.reject and not args.feedback.strip():
        raise CliError("--reject needs --feedback TEXT saying what to change")
    config = config_from(args)
    crew = crew_from(config, args.crew)
    with open_store(args) as store:
        if store.get_request(args.kickoff_id) is None:  # not a flow request id: a kickoff id
            args.kickoff_id = resolve_kickoff_id(store, crew.name, args.kickoff_id)

        def find() -> list[HumanRequest]:
            if args.attempt is not None:  # that round, answered or not
                everything = store.requests_of(crew.name, args.kickoff_id)
                if req_id := store.get_request(args.kickoff_id):
                    everything.append(req_id)
                return [
                    req
                    for req in everything
                    if _matches(req, crew.name, args.kickoff_id, args.task)
                    and req.attempt == args.attempt
                ][:1]
            return [
                req
                for req in store.pending_requests()
                if _matches(req, crew.name, args.kickoff_id, args.task)
            ]

        async with running_engine(config, store, [crew.name], out.info) as engine:
            found = find()
            run = store.find_by_kickoff_id(crew.name, args.kickoff_id)
            if not found and run is not None:
                await engine.refresh(run.local_id)  # poll now: the pause becomes a request
                found = find()
            if not found and args.attempt is not None:
                _refuse_other_round(store, crew.name, args.kickoff_id, args.attempt)
            if not found and (winner := _answered_while_running(store, crew.name, run)):
                out.emit(
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
                return ExitCode.OK
            if not found:
                # A run crewdash did not start: ask the deployment, then file the pause in
                # the store's inbox (one request per pause, as any channel would) so the
                # answer is audited like any other.
                async with crew_client(crew, store) as client:
                    status = await client.status(args.kickoff_id)
                task = status.pending_task_id or status.current_task
                if status.state is not RunState.AWAITING_INPUT or not task:
                    raise CliError(
                        f"run {args.kickoff_id} is not waiting for human input "
                        f"(state: {status.raw_state})",
                        kind="not_waiting",
                    )
                if args.task is not None and args.task != task:
                    raise CliError(
                        f"run {args.kickoff_id} waits for input on task {task!r}, "
                        f"not {args.task!r}",
                        kind="not_waiting",
                    )
                engine.inbox_.seen_polled(
                    crew.name, args.kickoff_id, status, local_id=run.local_id if run else None
                )
                found = find()
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
    record = {
        "type": "answer",
        "crew": crew.name,
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
            f"not sent: run {args.kickoff_id} is no longer in the pause you answered; {waits}. "
            f"Read it (crewdash status {crew.name} {args.kickoff_id}) and answer it"
            + (f" with --attempt {now.attempt}" if now is not None else ""),
            kind="superseded",
        )
    if outcome is AnswerOutcome.NOT_WAITING:
        raise CliError(
            f"run {args.kickoff_id} is no longer waiting for input ({said})", kind="not_waiting"
        )
    raise CliError(
        f"the answer could not be delivered ({said}); it is recorded, run the same command "
        "again to retry",
        code=ExitCode.NETWORK,
        kind="answer_failed",
    )
