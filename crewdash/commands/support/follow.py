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


@dataclass
class _Watch:
    """What `follow` knows of the runs it follows, fed by the engine's events."""

    session: Session
    engine: Any
    targets: set[str]
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    latest: dict[str, RunRecord] = field(default_factory=dict)
    observed: dict[str, float] = field(default_factory=dict)  # when its latest change came
    shown: dict[str, tuple[object, ...]] = field(default_factory=dict)
    hinted: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)  # crew -> why its token was refused

    def on_event(self, event: Event) -> None:
        if isinstance(event, RunChanged) and event.run.local_id in self.targets:
            self.latest[event.run.local_id] = event.run
            self.observed[event.run.local_id] = time.time()
            self.changed.set()
        elif isinstance(event, CrewHealthChanged) and event.health is CrewHealth.TOKEN_REJECTED:
            self.rejected[event.crew] = event.detail or "the token was rejected"
            self.changed.set()

    def take_current(self) -> None:
        """The state now: some runs may have ended already."""
        for local_id in self.targets:
            run = self.engine.run(local_id)
            if run is not None and local_id not in self.latest:
                self.latest[local_id] = run
                self.observed[local_id] = run.updated_at or run.created_at  # last observation
        self.changed.set()

    def show_changes(self) -> bool:
        """Print what changed since last time; True once every run has ended. A crew whose
        token was rejected while one of its runs goes on ends the follow (CliError)."""
        out = self.session.out
        for local_id, run in list(self.latest.items()):
            key = _shown_key(run)
            if self.shown.get(local_id) != key:
                self.shown[local_id] = key
                out.event(run_json(run), run_line(run, self.observed.get(local_id)))
            _hint_human_input(self.session, self.engine, run, self.hinted)
        for crew, detail in self.rejected.items():
            if any(r.crew == crew and not r.is_final for r in self.latest.values()):
                raise CliError(
                    f"crew {crew}: {detail}; stopped following its runs",
                    code=ExitCode.AUTH,
                    kind="auth",
                )
        return len(self.latest) >= len(self.targets) and all(
            r.is_final for r in self.latest.values()
        )


async def follow(
    session: Session,
    engine: Any,
    local_ids: Iterable[str],
    *,
    deadline: float | None,
) -> FollowResult:
    """Print every change of the given runs until all have ended, the monotonic `deadline`
    passes, or Ctrl+C. `engine` is a started `crewdash.core.engine.Engine`."""
    watch = _Watch(session, engine, set(local_ids))
    unsubscribe = engine.subscribe(watch.on_event)
    try:
        watch.take_current()
        while True:
            if watch.changed.is_set():
                watch.changed.clear()
                if watch.show_changes():
                    return FollowResult("done", watch.latest)
            if session.interrupted.is_set():
                return FollowResult("interrupted", watch.latest)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return FollowResult("timeout", watch.latest)
            outcome = await session.wait_interrupt_or(watch.changed.wait(), remaining)
            if outcome in ("interrupted", "timeout"):
                return FollowResult(outcome, watch.latest)
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
