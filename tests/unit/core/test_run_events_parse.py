"""Webhook payloads as timeline entries: every kind, streamed events, and payloads nobody
foresaw (kept as "unknown" with their raw JSON, never a crash); secrets never kept."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from crewdash.aop.models import Secret
from crewdash.core.runs.run_events import (
    EventKind,
    delivery_kickoff_id,
    event_at,
    mask_secrets,
    parse_delivery,
)


def test_a_step_with_a_thought_is_a_step_entry() -> None:
    event = parse_delivery(
        {
            "webhook": "step",
            "kickoff_id": "k1",
            "timestamp": "2026-12-04T11:20:03Z",
            "agent": "Researcher",
            "thought": "Thought: I should   look\nat the sources first.",
        }
    )
    assert event.kind is EventKind.STEP
    assert event.summary == "Thought: I should look at the sources first. (Researcher)"
    assert event.at == pytest.approx(1796383203.0)
    assert json.loads(event.raw)["thought"].startswith("Thought: I should")


def test_a_step_calling_a_tool_is_a_tool_entry_with_its_input() -> None:
    event = parse_delivery(
        {
            "webhook": "step",
            "agent": "Researcher",
            "thought": "search first",
            "tool": "search_web",
            "tool_input": {"query": "AI agents"},
            "result": "3 hits",
        }
    )
    assert event.kind is EventKind.TOOL
    assert event.summary == 'search_web({"query": "AI agents"}) (Researcher)'


def test_a_final_answer_step_shows_the_answer() -> None:
    event = parse_delivery({"webhook": "step", "thought": "done", "output": "The answer"})
    assert event.kind is EventKind.STEP
    assert event.summary == "done → The answer"


def test_a_task_end_names_the_task_and_its_output() -> None:
    event = parse_delivery(
        {"webhook": "task", "task_id": "research", "agent": "R", "output": "Findings: A"}
    )
    assert event.kind is EventKind.TASK
    assert event.summary == "research ended (R): Findings: A"
    paused = parse_delivery({"webhook": "task", "task_id": "review", "human_input_required": True})
    assert paused.summary == "review waits for human input"


def test_a_crew_delivery_is_the_run_end() -> None:
    event = parse_delivery({"webhook": "crew", "status": "error", "error": "boom"})
    assert (event.kind, event.summary) == (EventKind.CREW, "run error: boom")


@pytest.mark.parametrize(
    ("stream_type", "kind", "words"),
    [
        ("agent_step", EventKind.STEP, "a step"),
        ("tool_usage_finished", EventKind.TOOL, "a tool()"),
        ("task_started", EventKind.TASK, "a task started"),
        ("task_completed", EventKind.TASK, "a task ended"),
        ("human_feedback_requested", EventKind.TASK, "a task waits for human input"),
        ("crew_kickoff_completed", EventKind.CREW, "run crew_kickoff_completed"),
        ("llm_call_started", EventKind.UNKNOWN, "llm_call_started (not understood"),
    ],
)
def test_streamed_events_are_read_by_their_type(
    stream_type: str, kind: EventKind, words: str
) -> None:
    event = parse_delivery({"type": stream_type})
    assert event.kind is kind
    assert event.summary.startswith(words)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"webhook": "zz"},
        {"webhook": 12, "thought": None},
        {"webhook": "step", "thought": {"deep": [1, 2, {"x": None}]}, "timestamp": "never"},
        {"webhook": "task", "task_id": ["a", "list"], "output": 3.5},
        {"webhook": "crew", "status": None},
        {"type": None, "data": "x" * 10_000},
        {"webhook": "step", "tool": 5, "tool_input": float("nan")},
        {"webhook": "step", "timestamp": float("inf")},
        {"webhook": "step", "timestamp": True},
    ],
)
def test_odd_payloads_never_crash_and_keep_their_raw_json(payload: dict[str, Any]) -> None:
    event = parse_delivery(payload)
    assert event.kind in EventKind
    assert event.summary
    assert isinstance(json.loads(event.raw), dict)
    assert len(event.summary) <= 160


def test_an_unreadable_payload_is_an_unknown_entry_with_its_keys() -> None:
    event = parse_delivery({"webhook": "zz", "foo": 1, "bar": 2})
    assert event.kind is EventKind.UNKNOWN
    assert event.summary == "zz (not understood; keys: bar, foo)"
    assert json.loads(event.raw) == {"webhook": "zz", "foo": 1, "bar": 2}


def test_an_object_that_does_not_serialise_is_still_kept() -> None:
    class Weird:
        def __repr__(self) -> str:
            return "<weird>"

    event = parse_delivery({"webhook": "step", "thought": Weird()})
    assert event.kind is EventKind.STEP
    assert "<weird>" in event.raw


def test_a_huge_payload_is_kept_cut_and_says_so() -> None:
    event = parse_delivery({"webhook": "task", "output": "y" * 200_000})
    raw = json.loads(event.raw)
    assert raw["truncated"] is True and len(raw["first_characters"]) == 64 * 1024


def test_secrets_are_masked_by_key_and_by_value() -> None:
    held = Secret("held-token-abcdef123456")
    payload = {
        "webhook": "step",
        "thought": f"using {held.reveal()} now",
        "headers": {"Authorization": "Bearer sk-live-zzz", "X-Other": "fine"},
        "api_key": "sk-live-yyy",
        "token_usage": {"total_tokens": 42},
        "items": [{"password": "hunter2"}],
    }
    event = parse_delivery(payload)
    for secret in (held.reveal(), "sk-live-zzz", "sk-live-yyy", "hunter2"):
        assert secret not in event.raw and secret not in event.summary
    raw = json.loads(event.raw)
    assert raw["headers"] == {"Authorization": "****", "X-Other": "fine"}
    assert raw["token_usage"] == {"total_tokens": 42}  # a count, not a secret
    assert mask_secrets({"token": ""}) == {"token": ""}


def test_timestamps_and_run_ids() -> None:
    assert event_at({"timestamp": 1700000000}) == 1700000000.0
    assert event_at({"timestamp": "2026-12-04T11:20:03+00:00"}) == pytest.approx(1796383203.0)
    assert event_at({"timestamp": "2026-12-04T11:20:03"}) is None  # no zone: not guessed
    assert event_at({"timestamp": math.nan}) is None
    assert delivery_kickoff_id({"execution_id": "e1"}) == "e1"
    assert delivery_kickoff_id({"kickoff_id": "k1", "execution_id": "e1"}) == "k1"
    assert delivery_kickoff_id({"kickoff_id": 5}) is None


def _random_value(rng: Any, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 10**30, 1.5, float("nan"), float("inf")])
    if choice in (3, 4, 5):
        return "".join(rng.choice("ab \n\t€😀[]{}\"'\\") for _ in range(rng.randrange(30)))
    if choice in (6, 7):
        keys = ["webhook", "type", "thought", "tool", "tool_input", "task_id", "output",
                "status", "timestamp", "agent", "token", "x"]  # fmt: skip
        return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_random_payloads_never_crash_and_always_keep_json() -> None:
    import random

    rng = random.Random(14)
    kinds = set()
    for _ in range(2000):
        payload = _random_value(rng, 1)
        if not isinstance(payload, dict):
            payload = {"x": payload}
        if rng.random() < 0.6:  # mostly a known hook, as the receiver hands them
            payload["webhook"] = rng.choice(["step", "task", "crew", "zz", "tool_usage"])
        event = parse_delivery(payload)
        kinds.add(event.kind)
        json.loads(event.raw)  # always JSON
        assert event.summary and "\n" not in event.summary and len(event.summary) <= 160
        token_value = payload.get("token")
        if isinstance(token_value, str) and token_value:
            assert json.loads(event.raw)["token"] == "****"
    assert kinds == set(EventKind)  # every kind was reached
