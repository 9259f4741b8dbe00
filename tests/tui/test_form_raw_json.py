"""The form's raw-JSON mode without a widget: one object or a message, typed by the specs."""

from __future__ import annotations

import pytest

from crewdash.aop.models import InputSpec, InputType
from crewdash.tui.widgets.fields import FieldError
from crewdash.tui.widgets.raw_json import (
    RAW_KEY,
    errors_summary,
    parse_raw_json,
    typed_from_mapping,
)

TOPIC = InputSpec("topic", InputType.STRING, True)
AGE = InputSpec("age", InputType.INTEGER, True)
NOTE = InputSpec("note", InputType.STRING, False)


def test_the_raw_json_is_one_object_or_a_message_that_says_where() -> None:
    assert parse_raw_json("  \n") == {}
    assert parse_raw_json('{"age": 3}') == {"age": 3}
    with pytest.raises(FieldError, match="must be an object"):
        parse_raw_json("[1]")
    with pytest.raises(FieldError, match=r"does not parse \(line 2, column 2: Extra data"):
        parse_raw_json('{"a": 1\n}x')


def test_a_mapping_is_typed_by_its_specs_and_its_gaps_are_named() -> None:
    values, errors = typed_from_mapping(
        [TOPIC, AGE, NOTE], {"age": "3", "note": None, "other": [1]}
    )
    assert values == {"age": 3, "other": [1]}  # null optional: left out; no spec: as given
    assert errors == {"topic": "topic is required"}
    _, errors = typed_from_mapping([TOPIC, AGE], {"topic": "AI", "age": "three"})
    assert list(errors) == ["age"]


def test_the_summary_counts_the_inputs_or_quotes_the_raw_json() -> None:
    assert errors_summary({"a": "a is required"}) == "1 input needs attention: a is required"
    assert errors_summary({"a": "x", "b": "y"}) == "2 inputs need attention: x; y"
    assert errors_summary({RAW_KEY: "the raw JSON does not parse"}) == (
        "the raw JSON does not parse"
    )
