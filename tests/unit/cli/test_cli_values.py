"""Values typed on the command line become the types a crew's input specs ask for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crewdash.aop.models import InputSpec, InputType
from crewdash.commands.support.values import (
    InputValueError,
    build_inputs,
    parse_assignments,
    read_inputs_file,
)

SPECS = [
    InputSpec("topic"),
    InputSpec("age", InputType.INTEGER),
    InputSpec("budget", InputType.NUMBER, required=False),
    InputSpec("urgent", InputType.BOOLEAN, required=False),
    InputSpec("tone", InputType.CHOICE, required=False, choices=("formal", "casual")),
    InputSpec("tags", InputType.LIST, required=False),
    InputSpec("filters", InputType.JSON, required=False, raw_type="object"),
    InputSpec("due", InputType.JSON, required=False, raw_type="date"),
    InputSpec("lang", required=False, default="en"),
]


def test_text_values_are_converted_with_the_specs() -> None:
    texts = parse_assignments(
        [
            "topic=AI = fun",
            "age=35",
            "budget=12.5",
            "urgent=yes",
            "tone=casual",
            "tags=a, b,c",
            'filters={"x": [1, 2]}',
            "due=2025-01-31",
        ]
    )
    values = build_inputs(SPECS, texts=texts)
    assert values == {
        "topic": "AI = fun",
        "age": 35,
        "budget": 12.5,
        "urgent": True,
        "tone": "casual",
        "tags": ["a", "b", "c"],
        "filters": {"x": [1, 2]},
        "due": "2025-01-31",
        "lang": "en",
    }
    assert type(values["age"]) is int


@pytest.mark.parametrize(
    ("assignment", "expected_words"),
    [
        ("age=thirty", ["'age'", "whole number", "thirty"]),
        ("age=3.5", ["'age'", "whole number"]),
        ("budget=lots", ["'budget'", "number"]),
        ("budget=nan", ["'budget'", "number"]),
        ("urgent=maybe", ["'urgent'", "boolean"]),
        ("tone=angry", ["'tone'", "formal, casual"]),
        ("filters=[1]", ["'filters'", "JSON object"]),
        ("filters={oops", ["'filters'", "JSON object"]),
        ("tags=[1,", ["'tags'", "list"]),
    ],
)
def test_a_wrong_value_is_refused_naming_the_input_and_type(
    assignment: str, expected_words: list[str]
) -> None:
    with pytest.raises(InputValueError) as caught:
        build_inputs(SPECS, texts={"topic": "x", **parse_assignments([assignment])})
    for word in expected_words:
        assert word in caught.value.message
    assert caught.value.code == 2


def test_missing_required_inputs_are_named() -> None:
    with pytest.raises(InputValueError) as caught:
        build_inputs(SPECS, texts={"budget": "1"})
    assert "missing required inputs: topic, age" in caught.value.message


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(InputValueError) as caught:
        build_inputs(SPECS, texts={"topc": "x", "topic": "y", "age": "1"})
    assert "topc" in caught.value.message and "topic, age" in caught.value.message


def test_a_crew_without_published_inputs_takes_anything_as_text() -> None:
    assert build_inputs([], texts={"a": "1"}) == {"a": "1"}


def test_typed_file_values_are_checked_and_command_line_wins(tmp_path: Path) -> None:
    file = tmp_path / "in.json"
    file.write_text(json.dumps({"topic": "from file", "age": 40, "urgent": False}))
    values = build_inputs(SPECS, typed=read_inputs_file(file), texts={"topic": "typed"})
    assert values["topic"] == "typed" and values["age"] == 40 and values["urgent"] is False
    with pytest.raises(InputValueError, match="'age' expects a whole number"):
        build_inputs(SPECS, typed={"topic": "x", "age": True})
    with pytest.raises(InputValueError, match="'topic' expects"):
        build_inputs(SPECS, typed={"topic": 5, "age": 1})


def test_bad_assignments_and_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(InputValueError, match="key=value"):
        parse_assignments(["novalue"])
    with pytest.raises(InputValueError, match="does not exist"):
        read_inputs_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(InputValueError, match="JSON object"):
        read_inputs_file(bad)
    bad.write_text("{oops")
    with pytest.raises(InputValueError, match="line 1"):
        read_inputs_file(bad)
