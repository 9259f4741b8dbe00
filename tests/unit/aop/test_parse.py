"""The parsers on each documented variant (AOP-API.md) and on the odd ones seen in the wild."""

from __future__ import annotations

import pytest

from crewdash.aop import InputType, ProtocolError, RunState
from crewdash.aop.parse import (
    decode_json,
    parse_answer,
    parse_error_body,
    parse_inputs,
    parse_kickoff,
    parse_resume,
    parse_state,
    parse_status,
)


def test_names_only_are_required_strings():
    specs = parse_inputs({"inputs": ["budget", "interests"]})
    assert [(s.name, s.type, s.required) for s in specs] == [
        ("budget", InputType.STRING, True),
        ("interests", InputType.STRING, True),
    ]


def test_required_inputs_makes_the_others_optional_and_adds_unlisted_ones():
    specs = parse_inputs({"inputs": ["a", "b"], "required_inputs": ["a", "c"]})
    assert [(s.name, s.required) for s in specs] == [("a", True), ("b", False), ("c", True)]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("string", InputType.STRING),
        ("text", InputType.TEXT),
        ("integer", InputType.INTEGER),
        ("int", InputType.INTEGER),
        ("number", InputType.NUMBER),
        ("boolean", InputType.BOOLEAN),
        ("list", InputType.LIST),
        ("array", InputType.LIST),
        ("object", InputType.JSON),
        ("json", InputType.JSON),
        ("Integer", InputType.INTEGER),
    ],
)
def test_typed_objects(raw, kind):
    (spec,) = parse_inputs({"inputs": [{"name": "x", "type": raw}]})
    assert spec.type is kind
    assert spec.raw_type == raw


def test_unknown_type_is_json_and_keeps_the_raw_type():
    (spec,) = parse_inputs({"inputs": [{"name": "when", "type": "datetime"}]})
    assert (spec.type, spec.raw_type) == (InputType.JSON, "datetime")


@pytest.mark.parametrize("key", ["options", "choices", "enum"])
def test_enum_with_options_or_choices(key):
    (spec,) = parse_inputs({"inputs": [{"name": "tone", "type": "enum", key: ["dry", "warm"]}]})
    assert spec.type is InputType.CHOICE
    assert spec.choices == ("dry", "warm")


def test_default_description_required_and_unknown_keys():
    item = {
        "name": "n",
        "type": "integer",
        "required": False,
        "default": 3,
        "description": "How many",
        "ui": {"widget": "slider"},
    }
    (spec,) = parse_inputs({"inputs": [item], "version": 2})
    assert (spec.required, spec.default, spec.description) == (False, 3, "How many")


def test_typed_objects_with_required_inputs_use_it_when_required_is_absent():
    specs = parse_inputs({"inputs": [{"name": "a"}, {"name": "b"}], "required_inputs": ["b"]})
    assert [s.required for s in specs] == [False, True]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"inputs": None},
        {"inputs": [1]},
        {"inputs": [{"type": "string"}]},
        {"inputs": [], "required_inputs": "a"},
    ],
)
def test_malformed_inputs_are_protocol_errors(body):
    with pytest.raises(ProtocolError):
        parse_inputs(body)


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("pending", RunState.PENDING),
        ("running", RunState.RUNNING),
        ("completed", RunState.COMPLETED),
        ("error", RunState.ERROR),
        ("failed", RunState.ERROR),
        ("stopped", RunState.STOPPED),
        ("cancelled", RunState.STOPPED),
        ("Pending Human Input", RunState.AWAITING_INPUT),
        ("pending_human_input", RunState.AWAITING_INPUT),
        ("awaiting_human_feedback", RunState.AWAITING_INPUT),
        ("AWAITING-HUMAN-INPUT", RunState.AWAITING_INPUT),
        ("awaiting_input", RunState.AWAITING_INPUT),
        ("warming_up", RunState.UNKNOWN),
    ],
)
def test_state_spellings(raw, state):
    assert parse_state(raw) is state
    assert parse_status({"status": raw}).raw_state == raw


def test_running_status():
    status = parse_status(
        {
            "status": "running",
            "current_task": "research",
            "progress": {"completed_tasks": 1, "total_tasks": 3},
        }
    )
    assert status.current_task == "research"
    assert (status.progress.completed_tasks, status.progress.total_tasks) == (1, 3)


def test_completed_status_with_tasks():
    status = parse_status(
        {
            "status": "completed",
            "result": {
                "output": "final",
                "tasks": [
                    {
                        "task_id": "t1",
                        "output": "o1",
                        "agent": "Researcher",
                        "execution_time": 45.2,
                    },
                    {"task_id": "t2", "output": "o2", "agent": {"role": "Planner"}},
                    "junk",
                ],
            },
            "execution_time": 108.5,
        }
    )
    assert status.result.output == "final"
    assert [(t.task_id, t.agent, t.execution_time) for t in status.result.tasks] == [
        ("t1", "Researcher", 45.2),
        ("t2", "Planner", None),
    ]
    assert status.execution_time == 108.5


def test_structured_output_is_kept_as_json_text():
    status = parse_status({"status": "completed", "result": {"output": {"a": 1}}})
    assert status.result.output == '{"a":1}'


@pytest.mark.parametrize("key", ["error", "error_message"])
def test_error_from_either_field(key):
    status = parse_status({"status": "error", key: "boom"})
    assert (status.state, status.error) == (RunState.ERROR, "boom")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"task_id": "t", "last_task_output": "draft", "prompt": "ok?"}, ("t", "draft", "ok?")),
        ({"pending_task": "t", "output": "draft", "message": "ok?"}, ("t", "draft", "ok?")),
        (
            {"current_task": "t", "result": {"tasks": [{"task_id": "t", "output": "d"}]}},
            ("t", "d", None),
        ),
        ({}, (None, None, None)),
    ],
)
def test_pending_fields_when_paused(body, expected):
    status = parse_status({"status": "pending_human_input", **body})
    assert (status.pending_task_id, status.pending_output, status.pending_prompt) == expected


def test_pending_fields_are_not_read_when_not_paused():
    assert (
        parse_status({"status": "running", "task_id": "t", "message": "hi"}).pending_task_id is None
    )


def test_state_key_is_also_accepted_and_a_missing_one_is_a_protocol_error():
    assert parse_status({"state": "running"}).state is RunState.RUNNING
    with pytest.raises(ProtocolError):
        parse_status({"progress": {}})


def test_odd_numbers_do_not_crash():
    status = parse_status(
        {
            "status": "running",
            "execution_time": 10**400,
            "progress": {"completed_tasks": 1.5, "total_tasks": 2},
        }
    )
    assert (status.execution_time, status.progress) == (None, None)


def test_kickoff():
    assert parse_kickoff({"kickoff_id": "abc"}) == "abc"
    for bad in ({}, {"kickoff_id": ""}, {"kickoff_id": 3}, "abc"):
        with pytest.raises(ProtocolError):
            parse_kickoff(bad)


def test_resume():
    assert parse_resume({"status": "resumed", "message": "ok"}).status == "resumed"
    assert parse_resume({}).status == "accepted"


@pytest.mark.parametrize(
    "payload",
    [{"human_feedback": "good", "is_approve": True}, {"response": "good", "continue": True}],
    ids=["current", "older-guide"],
)
def test_answers_in_both_wordings(payload):
    assert parse_answer(payload) == ("good", True)


def test_an_answer_without_a_decision_is_refused():
    with pytest.raises(ProtocolError):
        parse_answer({"response": "good"})


def test_error_body():
    assert parse_error_body(b'{"message": "m", "details": {"missing_inputs": ["a"]}}') == (
        "m",
        ("a",),
    )
    assert parse_error_body(b'{"error": "e", "missing_inputs": ["b"]}') == ("e", ("b",))
    assert parse_error_body(b"<html>") == (None, ())


def test_decode_json_describes_what_came():
    with pytest.raises(ProtocolError, match="HTML page"):
        decode_json(b"<html></html>", "GET x")
    with pytest.raises(ProtocolError, match="cut off"):
        decode_json(b'{"a": ', "GET x")
    with pytest.raises(ProtocolError, match="empty"):
        decode_json(b"", "GET x")


def test_values_too_large_to_print_do_not_crash():
    status = parse_status({"status": "error", "error": 10**5000})
    assert status.error == "<unprintable value>"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"emit": ["approve", "reject", "escalate"]}, ("approve", "reject", "escalate")),
        ({"pending_task": {"id": "t", "emit": ["ok", "no"]}}, ("ok", "no")),
        ({"emit": ["ok", 3, None, ""]}, ("ok", "3")),  # tolerant: junk entries dropped
        ({"emit": "approve"}, ()),  # not a list
        ({}, ()),
    ],
)
def test_flow_emit_options_of_a_pause(body, expected):
    assert parse_status({"status": "pending_human_input", **body}).pending_emit == expected


def test_emit_is_not_read_when_not_paused():
    assert parse_status({"status": "running", "emit": ["a"]}).pending_emit == ()
