"""A run's event stream (issue 14): the step, task and crew webhooks a kickoff advertises, and
streamed events, turned into timeline entries the store keeps and the run detail lists.

Pure: no I/O. `parse_delivery` never raises: whatever a sender posts becomes an entry, a
payload it cannot read an "unknown" one with its raw JSON, so nothing received is lost. What
the payloads carry is in docs/design.md#event-stream (AOP documents the URLs, not the bodies:
CrewAI's step callback gives an agent action, a thought and a tool call, or a final answer).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from crewdash.aop.redact import MASK, redact, redact_json

#: events kept per run; older ones are dropped in the transaction that adds a new one
KEEP_PER_RUN = 500
SUMMARY_WIDTH = 160  # characters of an entry's one-line summary
MAX_RAW = 64 * 1024  # characters of an event's raw JSON kept (a body may be up to 1 MiB)

#: keys whose values are secrets whatever they hold (a sender may echo its headers or auth)
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|authorization|auth[_-]?header|cookie|signature)",
    re.IGNORECASE,
)


class EventKind(StrEnum):
    STEP = "step"  # an agent's thought or final answer
    TOOL = "tool"  # an agent's tool call
    TASK = "task"  # a task ended (or paused for human input)
    CREW = "crew"  # the run ended (crewWebhookUrl, a kickoff's end event)
    UNKNOWN = "unknown"  # a delivery crewdash cannot read: kept raw


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """One delivery as a timeline entry, before it is stored."""

    kind: EventKind
    at: float | None  # the sender's timestamp, when it gave a readable one
    summary: str
    raw: str  # the whole delivery as JSON, redacted


@dataclass(frozen=True, slots=True)
class RunEvent:
    """A stored timeline entry of a run (`RunStore.run_events`)."""

    id: int  # in arrival order
    local_id: str
    at: float  # the sender's time, else when it arrived
    received_at: float
    kind: EventKind
    summary: str
    raw: str


def mask_secrets(value: Any) -> Any:
    """`value` with every token this process holds masked (`redact_json`) and the value of
    every key that names a secret (`token`, `authorization`, `api_key`, ...) replaced."""
    cleaned = redact_json(value)
    stack = [cleaned]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                # strings only: `token_usage: {"total_tokens": 12}` is a count, not a secret
                if isinstance(key, str) and isinstance(child, str) and _SECRET_KEY.search(key):
                    item[key] = MASK if child else child
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return cleaned


def raw_json(payload: Mapping[str, Any]) -> str:
    """The delivery as stored: secrets masked, at most MAX_RAW characters (a cut one says so)."""
    text = json.dumps(mask_secrets(dict(payload)), ensure_ascii=False, default=str)
    if len(text) > MAX_RAW:
        return json.dumps({"truncated": True, "first_characters": text[:MAX_RAW]})
    return text


def one_line(value: Any, width: int = SUMMARY_WIDTH) -> str:
    """A value as one short line: whitespace folded, JSON for what is not a string."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(redact(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _text(payload: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if value not in (None, "", {}, []):
            return one_line(value)
    return ""


def event_at(payload: Mapping[str, Any]) -> float | None:
    """The sender's timestamp: unix seconds or ISO 8601; None when absent or unreadable."""
    value = payload.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value == value and abs(value) < 1e11 else None  # not NaN
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed.timestamp() if parsed.tzinfo is not None else None
    return None


def _word(payload: Mapping[str, Any]) -> str:
    """The webhook a delivery came to (`step`, `task`, `crew`), else a streamed `type`."""
    for key in ("webhook", "type"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    return ""


def _kind_of(payload: Mapping[str, Any]) -> EventKind:
    word = _word(payload)
    if "step" in word:
        return EventKind.TOOL if _tool_name(payload) else EventKind.STEP
    if "tool" in word:
        return EventKind.TOOL
    if word.startswith("task") or "human" in word:
        return EventKind.TASK
    if word == "crew" or "kickoff" in word or word.startswith(("crew_", "flow_")):
        return EventKind.CREW
    return EventKind.UNKNOWN


def _tool_name(payload: Mapping[str, Any]) -> str:
    tool = payload.get("tool") or payload.get("tool_name")
    return one_line(tool, 60) if isinstance(tool, str) and tool.strip() else ""


def _summary(kind: EventKind, payload: Mapping[str, Any]) -> str:
    agent = _text(payload, "agent", "agent_role")
    by = f" ({agent})" if agent else ""
    if kind is EventKind.TOOL:
        tool = _tool_name(payload) or "a tool"
        given = _text(payload, "tool_input", "input", "args", "arguments")
        return one_line(f"{tool}({given}){by}")
    if kind is EventKind.STEP:
        said = _text(payload, "thought", "text", "output", "action")
        answer = _text(payload, "output")
        if answer and answer not in said:
            said = f"{said} → {answer}" if said else answer
        return one_line(f"{said or 'a step'}{by}")
    if kind is EventKind.TASK:
        task = _text(payload, "task_name", "task_id", "name", "description") or "a task"
        word = _word(payload)
        if payload.get("human_input_required") is True or "human" in word:
            return one_line(f"{task} waits for human input{by}")
        if "start" in word:
            return one_line(f"{task} started{by}")
        if "fail" in word:
            return one_line(f"{task} failed{by}: {_text(payload, 'error', 'error_message')}")
        output = _text(payload, "output", "result", "raw")
        return one_line(f"{task} ended{by}" + (f": {output}" if output else ""))
    if kind is EventKind.CREW:
        status = _text(payload, "status", "type") or "ended"
        error = _text(payload, "error", "error_message")
        return one_line(f"run {status}" + (f": {error}" if error else ""))
    keys = ", ".join(sorted(str(k) for k in payload if k != "webhook"))[:100]
    what = one_line(_word(payload), 40) or "unknown event"
    return f"{what} (not understood; keys: {keys or 'none'})"


def parse_delivery(payload: Mapping[str, Any]) -> ParsedEvent:
    """One delivery (the receiver's payload, `webhook` naming the hook it came to) as an
    entry. Never raises: an unreadable delivery is an UNKNOWN entry with its raw JSON."""
    try:
        kind = _kind_of(payload)
        return ParsedEvent(kind, event_at(payload), _summary(kind, payload), raw_json(payload))
    except Exception:  # a shape nobody foresaw: keep it raw rather than lose it
        try:
            raw = raw_json(payload)
        except Exception:
            raw = json.dumps({"unreadable": one_line(repr(payload)[:400])})
        return ParsedEvent(EventKind.UNKNOWN, None, "unknown event (unreadable)", raw)


def delivery_kickoff_id(payload: Mapping[str, Any]) -> str | None:
    """The run a delivery is about: its `kickoff_id`, else `execution_id`."""
    for key in ("kickoff_id", "execution_id"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None


__all__ = [
    "KEEP_PER_RUN",
    "EventKind",
    "ParsedEvent",
    "RunEvent",
    "delivery_kickoff_id",
    "event_at",
    "mask_secrets",
    "one_line",
    "parse_delivery",
    "raw_json",
]
