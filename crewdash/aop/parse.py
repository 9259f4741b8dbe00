"""Response parsing: decoded JSON in, typed values out, `ProtocolError` for anything else.

Pure functions with no I/O, shared by both clients and safe on any input: a parser returns a
typed value or raises `ProtocolError`, never another exception (a property test holds us to it).
Every variant in docs/aop-api.md is accepted; unknown keys are ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from crewdash.aop.errors import ProtocolError
from crewdash.aop.models import (
    InputSpec,
    InputType,
    Progress,
    ResumeResult,
    RunResult,
    RunState,
    RunStatus,
    TaskOutput,
)

# -- small tolerant converters --------------------------------------------------------------


def text(value: Any) -> str:
    """Any JSON value as display text: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):  # e.g. an int too long to print
        return "<unprintable value>"


def _opt_text(value: Any) -> str | None:
    return None if value is None else text(value)


def _number(value: Any) -> float | None:
    """A JSON number (or numeric string) as a finite float; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            return None
        return result if math.isfinite(result) else None
    return None


def _count(value: Any) -> int | None:
    number = _number(value)
    if number is None or number < 0 or not number.is_integer():
        return None
    return int(number)


def _first(body: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present and not null."""
    for key in keys:
        value = body.get(key)
        if value is not None:
            return value
    return None


def decode_json(content: bytes, where: str) -> Any:
    """Bytes to JSON, or a ProtocolError that says what came instead (an HTML page, a cut body)."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        pass
    head = content[:200].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<")):
        what = "an HTML page (probably a proxy, gateway or login page) instead of JSON"
    elif not content.strip():
        what = "an empty body instead of JSON"
    elif head.startswith((b"{", b"[")):
        what = "a JSON body that is cut off or malformed"
    else:
        what = "a body that is not JSON"
    raise ProtocolError(
        f"{where} answered with {what}. Check that the base URL points at the crew's "
        "deployment itself, not at a proxy or dashboard.",
        unreadable=True,
    )


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ProtocolError(f"{what}: expected a JSON object, got {type(body).__name__}")
    return body


# -- /inputs --------------------------------------------------------------------------------

_TYPES: dict[str, InputType] = {
    "string": InputType.STRING,
    "str": InputType.STRING,
    "text": InputType.TEXT,
    "textarea": InputType.TEXT,
    "multiline": InputType.TEXT,
    "integer": InputType.INTEGER,
    "int": InputType.INTEGER,
    "number": InputType.NUMBER,
    "float": InputType.NUMBER,
    "decimal": InputType.NUMBER,
    "boolean": InputType.BOOLEAN,
    "bool": InputType.BOOLEAN,
    "enum": InputType.CHOICE,
    "choice": InputType.CHOICE,
    "select": InputType.CHOICE,
    "list": InputType.LIST,
    "array": InputType.LIST,
    "object": InputType.JSON,
    "json": InputType.JSON,
    "dict": InputType.JSON,
}


def _choices(item: Mapping[str, Any]) -> tuple[str, ...]:
    raw = _first(item, "options", "choices", "enum")
    if not isinstance(raw, list):
        return ()
    return tuple(text(choice) for choice in raw)


def _input_from_object(
    item: Mapping[str, Any], index: int, required_names: set[str] | None
) -> InputSpec:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"/inputs: item {index} has no name")
    raw_type = item.get("type", "string")
    raw_type = raw_type if isinstance(raw_type, str) else text(raw_type)
    choices = _choices(item)
    kind = _TYPES.get(raw_type.strip().lower(), InputType.JSON)
    if choices and kind in (InputType.STRING, InputType.CHOICE):
        kind = InputType.CHOICE
    required = item.get("required")
    if not isinstance(required, bool):
        required = name in required_names if required_names is not None else True
    description = _first(item, "description", "help")
    return InputSpec(
        name=name,
        type=kind,
        required=required,
        default=item.get("default"),
        description=text(description) if description is not None else "",
        choices=choices,
        raw_type=raw_type,
    )


def parse_inputs(body: Any) -> list[InputSpec]:
    """All three `/inputs` shapes: names only, typed objects, names + `required_inputs`."""
    body = _object(body, "/inputs")
    items = body.get("inputs")
    if not isinstance(items, list):
        raise ProtocolError("/inputs: the answer has no `inputs` list")
    required_raw = body.get("required_inputs")
    required_names: set[str] | None = None
    if required_raw is not None:
        if not isinstance(required_raw, list):
            raise ProtocolError("/inputs: `required_inputs` is not a list")
        required_names = {name for name in required_raw if isinstance(name, str)}
    specs: dict[str, InputSpec] = {}
    for index, item in enumerate(items):
        if isinstance(item, str):
            required = item in required_names if required_names is not None else True
            spec = InputSpec(name=item, required=required)
        elif isinstance(item, Mapping):
            spec = _input_from_object(item, index, required_names)
        else:
            raise ProtocolError(f"/inputs: item {index} is neither a name nor an object")
        specs.setdefault(spec.name, spec)
    for name in sorted(required_names or ()):  # required but not listed: still ask for it
        specs.setdefault(name, InputSpec(name=name, required=True))
    return list(specs.values())


# -- status ---------------------------------------------------------------------------------

_STATES: dict[str, RunState] = {
    **dict.fromkeys(("pending", "queued", "created", "scheduled"), RunState.PENDING),
    **dict.fromkeys(("running", "in_progress", "started", "executing"), RunState.RUNNING),
    **dict.fromkeys(
        ("completed", "complete", "success", "succeeded", "finished", "done"), RunState.COMPLETED
    ),
    **dict.fromkeys(("error", "errored", "failed", "failure"), RunState.ERROR),
    **dict.fromkeys(("stopped", "cancelled", "canceled", "aborted"), RunState.STOPPED),
    **dict.fromkeys(
        ("awaiting_input", "waiting_for_input", "paused", "pending_input"),
        RunState.AWAITING_INPUT,
    ),
}


def parse_state(raw: str) -> RunState:
    """A state string in any spelling seen; anything mentioning "human" is a pause for input
    ("Pending Human Input", pending_human_input, awaiting_human_feedback, ...)."""
    key = "_".join(raw.strip().lower().replace("-", " ").split())
    if key in _STATES:
        return _STATES[key]
    if "human" in key:
        return RunState.AWAITING_INPUT
    return RunState.UNKNOWN


def _task_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = _first(value, "name", "task_id", "id", "description")
    return _opt_text(value)


def _agent(value: Any) -> str:
    if isinstance(value, Mapping):
        value = _first(value, "role", "name")
    return text(value) if value is not None else ""


def _task_output(item: Mapping[str, Any], index: int) -> TaskOutput:
    task_id = _first(item, "task_id", "id", "name", "description")
    return TaskOutput(
        task_id=text(task_id) if task_id is not None else str(index),
        output=text(_first(item, "output", "raw") or ""),
        agent=_agent(item.get("agent")),
        execution_time=_number(item.get("execution_time")),
    )


def _result(value: Any) -> RunResult | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return RunResult(output=text(value))
    tasks_raw = value.get("tasks")
    tasks = tuple(
        _task_output(item, index)
        for index, item in enumerate(tasks_raw if isinstance(tasks_raw, list) else ())
        if isinstance(item, Mapping)
    )
    output = _first(value, "output", "raw")
    return RunResult(output=text(output) if output is not None else "", tasks=tasks)


def _progress(value: Any) -> Progress | None:
    if not isinstance(value, Mapping):
        return None
    done, total = _count(value.get("completed_tasks")), _count(value.get("total_tasks"))
    if done is None or total is None:
        return None
    return Progress(completed_tasks=done, total_tasks=total)


def _error(body: Mapping[str, Any]) -> str | None:
    value = _first(body, "error", "error_message")
    if isinstance(value, Mapping):
        value = _first(value, "message", "error") or value
    return _opt_text(value)


def _pending(body: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """What a paused run waits on. Accepted, first found wins:
    task id: `pending_task_id`, `task_id`, `pending_task` (a name, or an object with
    `task_id`/`id`/`name`), `current_task`;
    output: `pending_output`, `last_task_output`, `task_output`, `output`, the `pending_task`
    object's `output`, else the last task in `result.tasks`;
    prompt: `pending_prompt`, `prompt`, `human_input_prompt`, `message`, the `pending_task`
    object's `prompt`."""
    task = body.get("pending_task")
    task_obj: Mapping[str, Any] = task if isinstance(task, Mapping) else {}
    task_id = _first(body, "pending_task_id", "task_id")
    if task_id is None:
        task_id = _first(task_obj, "task_id", "id", "name") if task_obj else task
    if task_id is None:
        task_id = _task_name(body.get("current_task"))
    output = _first(body, "pending_output", "last_task_output", "task_output", "output")
    if output is None:
        output = task_obj.get("output")
    if output is None:
        result = _result(body.get("result"))
        if result and result.tasks:
            output = result.tasks[-1].output
    prompt = _first(body, "pending_prompt", "prompt", "human_input_prompt", "message")
    if prompt is None:
        prompt = task_obj.get("prompt")
    return _opt_text(task_id), _opt_text(output), _opt_text(prompt)


def _emit(body: Mapping[str, Any]) -> tuple[str, ...]:
    """A paused flow step's outcomes: `emit`, or the `pending_task` object's `emit`; a list
    of names (empty or non-text entries dropped)."""
    value = body.get("emit")
    task = body.get("pending_task")
    if value is None and isinstance(task, Mapping):
        value = task.get("emit")
    if not isinstance(value, list):
        return ()
    names = (str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return tuple(n for n in names if n)


def parse_status(body: Any) -> RunStatus:
    """A status body of any deployment: state from `status` (or `state`), the rest tolerant."""
    body = _object(body, "status")
    raw_state = _first(body, "status", "state")
    if not isinstance(raw_state, str):
        raise ProtocolError("status: the answer has no `status` string")
    state = parse_state(raw_state)
    result = _result(body.get("result"))
    if result is None and state is RunState.COMPLETED and body.get("output") is not None:
        result = RunResult(output=text(body["output"]))
    pending: tuple[str | None, str | None, str | None] = (None, None, None)
    if state is RunState.AWAITING_INPUT:
        pending = _pending(body)
    return RunStatus(
        state=state,
        raw_state=raw_state,
        current_task=_task_name(body.get("current_task")),
        progress=_progress(body.get("progress")),
        result=result,
        error=_error(body),
        execution_time=_number(body.get("execution_time")),
        pending_task_id=pending[0],
        pending_output=pending[1],
        pending_prompt=pending[2],
        raw=dict(body),
        pending_emit=_emit(body) if state is RunState.AWAITING_INPUT else (),
    )


# -- kickoff, resume, answers ---------------------------------------------------------------


def parse_kickoff(body: Any) -> str:
    """The kickoff id from `{"kickoff_id": ...}` (`execution_id` and `id` also accepted)."""
    body = _object(body, "/kickoff")
    kickoff_id = _first(body, "kickoff_id", "execution_id", "id")
    if not isinstance(kickoff_id, str) or not kickoff_id.strip():
        raise ProtocolError("/kickoff: the answer has no `kickoff_id`")
    return kickoff_id


def parse_resume(body: Any) -> ResumeResult:
    """`{"status": "resumed"|"retrying"|"completed", "message"}`; a missing status reads as
    "accepted" (the server said 2xx and nothing more)."""
    body = _object(body, "/resume")
    status = body.get("status")
    message = _first(body, "message", "detail")
    return ResumeResult(
        status=text(status) if status is not None else "accepted",
        message=text(message) if message is not None else "",
    )


def parse_answer(payload: Any) -> tuple[str, bool]:
    """A human's answer in either wording — `{"human_feedback", "is_approve"}` (current) or
    `{"response", "continue"}` (older guide) — as (feedback, approve)."""
    payload = _object(payload, "answer")
    feedback = _first(payload, "human_feedback", "response", "feedback")
    approve = _first(payload, "is_approve", "continue", "approve")
    if not isinstance(feedback, str):
        raise ProtocolError("answer: no `human_feedback` (or `response`) text")
    if not isinstance(approve, bool):
        raise ProtocolError("answer: no `is_approve` (or `continue`) true/false")
    return feedback, approve


def parse_error_body(content: bytes) -> tuple[str | None, tuple[str, ...]]:
    """From an error answer: the server's message (if it sent JSON with one) and the missing
    input names of a 422 (`details.missing_inputs`, or `missing_inputs` at the top)."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return None, ()
    if not isinstance(body, Mapping):
        return None, ()
    message = _first(body, "message", "detail", "error")
    details = body.get("details")
    missing_raw = _first(details if isinstance(details, Mapping) else {}, "missing_inputs")
    if missing_raw is None:
        missing_raw = body.get("missing_inputs")
    missing = tuple(text(n) for n in missing_raw) if isinstance(missing_raw, list) else ()
    return _opt_text(message), missing
