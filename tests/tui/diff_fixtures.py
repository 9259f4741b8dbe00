"""Two runs of one crew that differ the way reruns do: an input changed, a task's words, a
report re-wrapped with one list item and one table cell changed, a task dropped and one added.
Shared by the diff screen's tests, its snapshot and scripts/screenshots.py."""

from __future__ import annotations

from screens_fixtures import NOW, TASKS, FakeEngine, ScreenApp, completed_run

from crewdash.aop.models import RunResult, TaskOutput
from crewdash.core.models import RunRecord
from crewdash.tui.screens.run_diff import RunDiffScreen

REPORT_B = """# Agent frameworks, January 2026

The field consolidated around **four** designs:

1. *Role-based crews* — agents with a
   goal and a backstory.
2. *Graphs* — explicit state machines.
3. *Flows* — event-driven steps with human review.
4. *Swarms* — many small agents handing work over.

| Framework | Stars | Language |
|-----------|------:|----------|
| crewAI    | 41k   | Python   |
| LangGraph | 15k   | Python   |

> Pick the simplest one that fits.
"""

TASKS_B = (
    TaskOutput("research", "Found 17 sources on agent frameworks.", "Senior Researcher", 51.0),
    TASKS[1],
    TaskOutput("write", REPORT_B, "Writer", 70.4),
    TaskOutput("publish", "Published to the blog.", "Publisher", 2.0),
)


def run_pair() -> tuple[RunRecord, RunRecord]:
    """Run A (run-1, as the other screens' tests know it) and run B (run-2), an hour later."""
    a = completed_run(attempts=1)
    b = completed_run(
        REPORT_B,
        local_id="run-2",
        request_id="req-2",
        kickoff_id="9b2e4d10-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
        inputs={"topic": "AI agents", "age": 4, "deep": True, "sources": ["arxiv", "web"]},
        created_at=NOW - 3_900,
        finished_at=NOW - 3_700,
        updated_at=NOW - 3_700,
        result=RunResult(REPORT_B, TASKS_B),
        attempts=2,
    )
    return a, b


class DiffApp(ScreenApp):
    def __init__(self) -> None:
        a, b = run_pair()
        engine = FakeEngine([a, b])
        super().__init__(lambda: RunDiffScreen(engine, a, b))
