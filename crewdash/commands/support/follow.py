"""Following tracked runs until they end, through the engine's monitor (shared by
`kickoff --wait` and `watch`). The engine writes every change to the store before it
publishes it, so stopping here — timeout or Ctrl+C — loses nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crewdash.aop.models import RunState
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.errors import CliError
from crewdash.commands.support.render import run_json, run_line
from crewdash.commands.support.runner import Session
from crewdash.core.models import (
    CrewHealth,
    CrewHealthChanged,
    Event,
    KickoffPhase,
    RunChanged,
    RunRecord,
)


@dataclass
class FollowResult:
    outcome: str  # "done" | "timeout" | "interrupted"
    runs: dict[str, RunRecord] = field(default_factory=dict)  # local_id -> latest record

    @property
    def pending(self) -> list[RunRecord]:
        return [run for run in self.runs.values() if not run.is_final]

    @property
    def failed(self) -> list[RunRecord]:
        return [run for run in self.runs.values() if run.is_final and not succeeded(run)]


def succeeded(run: RunRecord) -> bool:
    return run.phase is KickoffPhase.ACCEPTED and run.state is RunState.COMPLETED


def _shown_key(run: RunRecord) -> tuple[object, ...]:
    return (
        run.phase,
        run.raw_state,
        run.current_task,
        run.completed_tasks,
        run.total_tasks,
        run.stalled,
        run.offline_since,
        run.note,
    )


def resume_hint(runs: Iterable[RunRecord]) -> str:
    pending = [run for run in runs if not run.is_final and run.kickoff_id]
    if not pending:
        return "pick up with `crewdash watch`"
    if len(pending) == 1:
        run = pending[0]
        return (
            f"the run goes on; pick it up with `crewdash status {run.crew} {run.kickoff_id}` "
            f"or `crewdash watch {run.crew}`"
        )
    crews = " ".join(sorted({run.crew for run in pending}))
    return f"{len(pending)} runs go on; pick them up with `crewdash watch {crews}`"


async def follow(
    session: Session,
    engine: Any,
    local_ids: Iterable[str],
    *,
    deadline: float | None,
) -> FollowResult:
    """Print every change of the given runs until all have ended, the monotonic `deadline`
    passes, or Ctrl+C. `engine` is a started `crewdash.core.engine.Engine`."""
    out = session.out
    targets = set(local_ids)
    changed = asyncio.Event()
    latest: dict[str, RunRecord] = {}
    observed: dict[str, float] = {}  # local_id -> when its latest change reached us
    shown: dict[str, tuple[object, ...]] = {}
    hinted: set[str] = set()
    rejected: dict[str, str] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, RunChanged) and event.run.local_id in targets:
            latest[event.run.local_id] = event.run
            observed[event.run.local_id] = time.time()
            changed.set()
        elif isinstance(event, CrewHealthChanged) and event.health is CrewHealth.TOKEN_REJECTED:
            rejected[event.crew] = event.detail or "the token was rejected"
            changed.set()

    unsubscribe = engine.subscribe(on_event)
    try:
        for local_id in targets:  # the state now: some may have ended already
            run = engine.run(local_id)
            if run is not None and local_id not in latest:
                latest[local_id] = run
                observed[local_id] = run.updated_at or run.created_at  # its last observation
        changed.set()
        while True:
            if changed.is_set():
                changed.clear()
                for local_id, run in list(latest.items()):
                    key = _shown_key(run)
                    if shown.get(local_id) != key:
                        shown[local_id] = key
                        out.event(run_json(run), run_line(run, observed.get(local_id)))
                    _hint_human_input(session, engine, run, hinted)
                for crew, detail in rejected.items():
                    if any(r.crew == crew and not r.is_final for r in latest.values()):
                        raise CliError(
                            f"crew {crew}: {detail}; stopped following its runs",
                            code=ExitCode.AUTH,
                            kind="auth",
                        )
                if len(latest) >= len(targets) and all(r.is_final for r in latest.values()):
                    return FollowResult("done", latest)
            if session.interrupted.is_set():
                return FollowResult("interrupted", latest)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return FollowResult("timeout", latest)
            outcome = await session.wait_interrupt_or(changed.wait(), remaining)
            if outcome == "interrupted":
                return FollowResult("interrupted", latest)
            if outcome == "timeout":
                return FollowResult("timeout", latest)
    finally:
        unsubscribe()


def _hint_human_input(session: Session, engine: Any, run: RunRecord, hinted: set[str]) -> None:
    """Say once per request how to answer a run that waits for human input."""
    if run.state is not RunState.AWAITING_INPUT:
        return
    for req in engine.inbox():
        if req.kickoff_id != run.kickoff_id or req.answered is not None or req.id in hinted:
            continue
        hinted.add(req.id)
        crew = engine.config.crews.get(run.crew)
        if req.emit:
            how = f"--outcome {'|'.join(req.emit)}"
        elif crew is not None and str(crew.kind) == "flow":
            how = "--outcome NAME"
        else:
            how = "(--approve|--reject)"
        prompt = f" ({req.prompt})" if req.prompt else ""
        session.out.info(
            f"{run.crew} {run.kickoff_id} waits for human input on task {req.task_id}{prompt}: "
            f"answer with `crewdash resume {run.crew} {run.kickoff_id} --task {req.task_id} "
            f"{how} --feedback TEXT`"
        )


def finish(session: Session, result: FollowResult) -> int:
    """The exit code of a follow, with the words for a timeout or an interruption."""
    if result.outcome == "interrupted":
        session.resume_hint = resume_hint(result.runs.values())
        return ExitCode.INTERRUPTED
    if result.outcome == "timeout":
        raise CliError(
            f"gave up waiting (--timeout); {resume_hint(result.runs.values())}",
            code=ExitCode.NETWORK,
            kind="timeout",
        )
    return ExitCode.RUN_FAILED if result.failed else ExitCode.OK
