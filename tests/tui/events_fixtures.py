"""A run's event stream as the store gives it, for the run detail's Events tab tests."""

from __future__ import annotations

import json
from typing import Any

from screens_fixtures import KICKOFF, NOW

from crewdash.core.runs.run_events import RunEvent, parse_delivery


def event(n: int, at: float, **payload: Any) -> RunEvent:
    """Event `n` (its id) of run-1, parsed from `payload` as the receiver would hand it."""
    payload = {"kickoff_id": KICKOFF, **payload}
    parsed = parse_delivery(payload)
    return RunEvent(n, "run-1", at, at, parsed.kind, parsed.summary, parsed.raw)


def stream() -> list[RunEvent]:
    """The first task of a research run: a tool call, a final answer, its end; then a step of
    the next task and a delivery nobody understood."""
    start = NOW - 290
    return [
        event(
            1,
            start + 4,
            webhook="step",
            agent="Senior Researcher",
            thought="Thought: find recent surveys first.",
            tool="search_web",
            tool_input={"query": "AI agent frameworks 2026"},
            result="14 sources",
        ),
        event(
            2,
            start + 31,
            webhook="step",
            agent="Senior Researcher",
            thought="Thought: I have enough sources.",
            output="Found 14 sources on agent frameworks.",
        ),
        event(
            3,
            start + 47,
            webhook="task",
            task_id="research",
            agent="Senior Researcher",
            output="Found 14 sources on agent frameworks.",
            status="completed",
        ),
        event(
            4,
            start + 52,
            webhook="step",
            agent="Analyst",
            thought="Thought: group the sources by design.",
            tool="read_file",
            tool_input={"path": "sources.md"},
        ),
        event(5, start + 60, webhook="zz", note="from a newer server"),
    ]


def raw_of(item: RunEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(item.raw)
    return loaded
