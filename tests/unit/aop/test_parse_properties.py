"""Every parser on arbitrary JSON and arbitrary bytes: a typed value or ProtocolError, never
another exception."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crewdash.aop import InputSpec, ProtocolError, ResumeResult, RunResult, RunStatus
from crewdash.aop.calls import Call
from crewdash.aop.classify import error_for_response, parse_retry_after
from crewdash.aop.errors import AOPError
from crewdash.aop.output import parse_output
from crewdash.aop.parse import (
    decode_json,
    parse_answer,
    parse_error_body,
    parse_inputs,
    parse_kickoff,
    parse_resume,
    parse_status,
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=30,
)
# Bodies that look like the API's, so the parsers get past the first checks often.
keys = st.sampled_from(
    [
        "inputs",
        "required_inputs",
        "name",
        "type",
        "required",
        "default",
        "options",
        "choices",
        "status",
        "state",
        "result",
        "output",
        "tasks",
        "progress",
        "completed_tasks",
        "total_tasks",
        "error",
        "error_message",
        "execution_time",
        "pending_task",
        "task_id",
        "prompt",
        "message",
        "kickoff_id",
        "agent",
        "current_task",
        "details",
        "missing_inputs",
    ]
)
shaped = st.recursive(
    scalars | st.sampled_from(["running", "Pending Human Input", "completed", "string", "enum"]),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=8),
    max_leaves=40,
)


@dataclass
class Point:
    x: int
    y: int = 0


PARSERS = [
    (parse_inputs, list),
    (parse_status, RunStatus),
    (parse_kickoff, str),
    (parse_resume, ResumeResult),
    (parse_answer, tuple),
]


def _check(body: Any) -> None:
    for parser, kind in PARSERS:
        try:
            value = parser(body)
        except ProtocolError:
            continue
        assert isinstance(value, kind)
        if parser is parse_inputs:
            assert all(isinstance(spec, InputSpec) for spec in value)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | shaped)
def test_parsers_on_arbitrary_json(body):
    _check(body)


@settings(max_examples=100)
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()[:-1]))
def test_parsers_on_arbitrary_bytes(content):
    try:
        body = decode_json(content, "GET /x")
    except ProtocolError:
        return
    _check(body)


@settings(max_examples=100)
@given(st.text(max_size=200) | json_values.map(json.dumps))
def test_parse_output_on_arbitrary_text(output):
    for into in (None, Point, dict, list, float):
        with contextlib.suppress(ProtocolError):
            value = parse_output(RunResult(output=output), into)
            assert into is None or isinstance(value, into)


@settings(max_examples=100)
@given(
    st.binary(max_size=200),
    st.integers(100, 599),
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40),
)
def test_error_mapping_on_arbitrary_answers(content, code, retry_after):
    parse_error_body(content)
    response = httpx.Response(code, content=content, headers={"Retry-After": retry_after})
    error = error_for_response(response, Call("GET", "/x"), "GET /x", None, 1_700_000_000.0)
    assert error is None if 200 <= code < 300 else isinstance(error, AOPError)


@given(st.text(max_size=60))
def test_retry_after_is_a_delay_or_none(value):
    delay = parse_retry_after(value, 1_700_000_000.0)
    assert delay is None or delay >= 0.0
