"""Plain values and a tiny fake engine for unit tests of one screen (engineer B's screens).

The fake exposes only the facade methods the screens call; tests against the real engine and
the simulator live in test_*_sim.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.screen import Screen

from crewdash.aop.models import RunResult, RunState, TaskOutput
from crewdash.core.models import (
    AnswerOutcome,
    DecisionRecord,
    Event,
    HumanRequest,
    KickoffPhase,
    RequestSource,
    RunRecord,
    StateChange,
)
from crewdash.core.runs.run_events import RunEvent
from crewdash.tui.messages import (
    AnswerRequest,
    EditRun,
    EngineEvents,
    PollRun,
    StartRun,
    StopRun,
)

NOW = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC: every screen's clock in these tests
KICKOFF = "6f1c2a9e-7b4d-4c55-9a1e-0d3b2c4e5f60"

REPORT_MD = """# Agent frameworks, January 2026

The field consolidated around **three** designs:

1. *Role-based crews* — agents with a goal and a backstory.
2. *Graphs* — explicit state machines.
3. *Flows* — event-driven steps with human review.

| Framework | Stars | Language |
|-----------|------:|----------|
| crewAI    | 40k   | Python   |
| LangGraph | 15k   | Python   |

> Pick the simplest one that fits.
"""

TASKS = (
    TaskOutput("research", "Found 14 sources on agent frameworks.", "Senior Researcher", 42.5),
    TaskOutput("analyse", "Grouped them into three designs.", "Analyst", 18.0),
    TaskOutput("write", REPORT_MD, "Writer", 63.2),
    TaskOutput("review", "Approved.", "Editor", 4.1),
)


def completed_run(output: str = REPORT_MD, **changes: Any) -> RunRecord:
    values: dict[str, Any] = dict(
        local_id="run-1",
        crew="research",
        inputs={"topic": "AI agents", "age": 3, "deep": True, "sources": ["arxiv", "web"]},
        request_id="req-1",
        created_at=NOW - 300,
        phase=KickoffPhase.ACCEPTED,
        kickoff_id=KICKOFF,
        state=RunState.COMPLETED,
        raw_state="SUCCESS",
        completed_tasks=4,
        total_tasks=4,
        result=RunResult(output, TASKS),
        updated_at=NOW - 172,
        finished_at=NOW - 172,
    )
    values.update(changes)
    return RunRecord(**values)


def history_for(record: RunRecord) -> list[StateChange]:
    start = record.created_at
    rows = [
        StateChange(record.local_id, start + 2, "PENDING", RunState.PENDING),
        StateChange(record.local_id, start + 5, "RUNNING", RunState.RUNNING, "research"),
        StateChange(record.local_id, start + 48, "RUNNING", RunState.RUNNING, "analyse"),
    ]
    if record.state is RunState.ERROR:
        rows.append(
            StateChange(
                record.local_id, start + 70, "FAILED", RunState.ERROR, "analyse", "task failed"
            )
        )
    elif record.state is RunState.COMPLETED:
        rows.append(StateChange(record.local_id, start + 128, "SUCCESS", RunState.COMPLETED))
    return rows


def crew_request(**changes: Any) -> HumanRequest:
    values: dict[str, Any] = dict(
        id=f"{KICKOFF}:write",
        crew="research",
        source=RequestSource.STATUS,
        received_at=NOW - 185,
        kickoff_id=KICKOFF,
        local_id="run-1",
        task_id="write",
        prompt="Review the draft report before it is published.",
        output=REPORT_MD,
        context="Task 3 of 4 · agent: Writer",
        sla_minutes=30,
    )
    values.update(changes)
    return HumanRequest(**values)


def flow_request(**changes: Any) -> HumanRequest:
    values: dict[str, Any] = dict(
        id="hitl-42",
        crew="publishing",
        source=RequestSource.FLOW_WEBHOOK,
        received_at=NOW - 2_400,
        kickoff_id="a8d2f0c4-1111-2222-3333-444455556666",
        local_id="run-2",
        prompt="Publish this post to the company blog?",
        output="## Launch notes\n\nWe shipped **crewdash** today.",
        emit=("approved", "rejected", "needs_legal"),
        callback_url="http://127.0.0.1:9/callback/hitl-42",
        sla_minutes=30,
        assigned_to="ops@example.com",
    )
    values.update(changes)
    return HumanRequest(**values)


class FakeEngine:
    """Only what the screens call: run, history, subscribe, stop_run, answer, inbox."""

    def __init__(
        self,
        runs: list[RunRecord] | None = None,
        requests: list[HumanRequest] | None = None,
    ) -> None:
        self.runs_by_id = {r.local_id: r for r in runs or []}
        self.requests = list(requests or [])
        self.subscribers: list[Callable[[Event], None]] = []
        self.answers: list[dict[str, Any]] = []
        self.answer_results: list[AnswerOutcome | Exception] = []
        self.stop_error: Exception | None = None
        self.stopped: list[str] = []
        self.decided: list[DecisionRecord] = []
        self.events_by_run: dict[str, list[RunEvent]] = {}  # a run's event stream
        self.receiver_url: str | None = None  # None: only polling

    def run_events(self, local_id: str, after: int = 0) -> list[RunEvent]:
        return [e for e in self.events_by_run.get(local_id, []) if e.id > after]

    def run(self, local_id: str) -> RunRecord | None:
        return self.runs_by_id.get(local_id)

    def history(self, local_id: str) -> list[StateChange]:
        record = self.runs_by_id.get(local_id)
        return history_for(record) if record else []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    def publish(self, event: Event) -> None:
        for callback in list(self.subscribers):
            callback(event)

    async def stop_run(self, local_id: str) -> RunRecord:
        if self.stop_error is not None:
            raise self.stop_error
        self.stopped.append(local_id)
        return self.runs_by_id[local_id]

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        seen: Any = None,
    ) -> AnswerOutcome:
        self.answers.append(
            {"request_id": request_id, "feedback": feedback, "approve": approve, "outcome": outcome}
        )
        result = self.answer_results.pop(0) if self.answer_results else AnswerOutcome.ACCEPTED
        if isinstance(result, Exception):
            raise result
        return result

    def inbox(self) -> list[HumanRequest]:
        return [r for r in self.requests if r.answered is None]

    def decisions(self, local_id: str) -> list[DecisionRecord]:
        return [d for d in self.decided if d.kickoff_id == KICKOFF and local_id == "run-1"]


class ScreenApp(App[None]):
    """Pushes one screen on mount and records what it was dismissed with.

    Like the dashboard's app, it hands the screen's engine events to every screen as
    `EngineEvents`; the requests screens post (StopRun, StartRun, AnswerRequest, ...) are
    recorded in `asked` instead of being carried out."""

    def __init__(self, make_screen: Callable[[], Screen[Any]], *, now: float = NOW) -> None:
        super().__init__()
        self._make_screen = make_screen
        self._now = now
        self.results: list[Any] = []
        self.clipboard_text: str | None = None
        self.notes: list[str] = []
        self.asked: list[Message] = []

    def _forward(self, event: Event) -> None:
        for screen in self.screen_stack:
            screen.post_message(EngineEvents((event,)))

    def on_start_run(self, message: StartRun) -> None:
        self.asked.append(message)

    def on_stop_run(self, message: StopRun) -> None:
        self.asked.append(message)

    def on_poll_run(self, message: PollRun) -> None:
        self.asked.append(message)

    def on_edit_run(self, message: EditRun) -> None:
        self.asked.append(message)

    def on_answer_request(self, message: AnswerRequest) -> None:
        self.asked.append(message)

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(message)
        super().notify(message, **kwargs)

    def now(self) -> float:
        return self._now

    def on_mount(self) -> None:
        screen = self._make_screen()
        engine = getattr(screen, "engine", None)
        if engine is not None and hasattr(engine, "subscribe"):
            engine.subscribe(self._forward)
        self.push_screen(screen, self.results.append)

    def copy_to_clipboard(self, text: str) -> None:
        self.clipboard_text = text
        super().copy_to_clipboard(text)
