"""The one set of rules that turns operator text and typed values into a crew's inputs."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crewdash.aop.models import InputSpec, InputType
from crewdash.core.inputs import (
    NOT_GIVEN,
    InputError,
    MissingInputsError,
    UnknownInputsError,
    build_inputs,
    check_value,
    parse_text,
    preset_values,
    to_text,
)
from tests.input_cases import (
    BOOLEAN,
    CHOICE,
    DATE,
    INTEGER,
    JSON,
    LIST,
    NUMBER,
    OBJECT,
    OPEN_CHOICE,
    REFUSED,
    STRING,
    TEXT,
    TEXT_TABLE,
)


def _ids(row: tuple[InputSpec, str, Any]) -> str:
    return f"{row[0].raw_type}:{row[1]!r}"


@pytest.mark.parametrize(("spec", "text", "value"), TEXT_TABLE, ids=map(_ids, TEXT_TABLE))
def test_text_becomes_the_typed_value(spec: InputSpec, text: str, value: Any) -> None:
    if value is REFUSED:
        with pytest.raises(InputError) as caught:
            parse_text(spec, text)
        message = caught.value.message
        assert message.startswith(f"input {spec.name!r} expects "), message
        assert f"got {text!r}" in message  # the value given, as given
        assert caught.value.name == spec.name
        return
    parsed = parse_text(spec, text)
    assert parsed == value
    assert type(parsed) is type(value)  # 3 is not 3.0, True is not 1


TYPED_TABLE: list[tuple[InputSpec, Any, Any]] = [
    (INTEGER, None, NOT_GIVEN),
    (STRING, "", NOT_GIVEN),
    (STRING, "x", "x"),
    (STRING, 5, REFUSED),
    (TEXT, ["x"], REFUSED),
    (INTEGER, 3, 3),
    (INTEGER, 3.0, 3),
    (INTEGER, "1_000", 1000),  # strings follow the text rules
    (INTEGER, 3.5, REFUSED),
    (INTEGER, True, REFUSED),
    (INTEGER, float("inf"), REFUSED),
    (NUMBER, 3, 3),
    (NUMBER, 3.0, 3.0),
    (NUMBER, "2.5", 2.5),
    (NUMBER, False, REFUSED),
    (NUMBER, float("nan"), REFUSED),
    (NUMBER, [1], REFUSED),
    (BOOLEAN, True, True),
    (BOOLEAN, 0, False),
    (BOOLEAN, 1, True),
    (BOOLEAN, "no", False),
    (BOOLEAN, 2, REFUSED),
    (BOOLEAN, 1.0, REFUSED),
    (CHOICE, "casual", "casual"),
    (CHOICE, 1, REFUSED),
    (OPEN_CHOICE, 1, REFUSED),  # choices are text, even without a list of them
    (LIST, ["a", 1], ["a", 1]),
    (LIST, "a, b", ["a", "b"]),
    (LIST, {"a": 1}, REFUSED),
    (OBJECT, {"a": 1}, {"a": 1}),
    (OBJECT, '{"a": 1}', {"a": 1}),
    (OBJECT, [1], REFUSED),
    (JSON, "12", "12"),  # a JSON string is a value of a json input
    (JSON, [1], [1]),
    (DATE, "2025-01-31", "2025-01-31"),
    (DATE, dt.date(2025, 1, 31), "2025-01-31"),  # a TOML date in a preset
    (STRING, dt.time(9, 30), "09:30:00"),
]


@pytest.mark.parametrize(("spec", "value", "sent"), TYPED_TABLE, ids=map(_ids, TYPED_TABLE))
def test_typed_values_are_checked(spec: InputSpec, value: Any, sent: Any) -> None:
    if sent is REFUSED:
        with pytest.raises(InputError, match=rf"^input '{spec.name}' expects "):
            check_value(spec, value)
        return
    checked = check_value(spec, value)
    assert checked == sent and type(checked) is type(sent)


def test_messages_name_the_input_the_type_and_the_value() -> None:
    def message(spec: InputSpec, given: Any) -> str:
        with pytest.raises(InputError) as caught:
            check_value(spec, given)
        return caught.value.message

    assert message(INTEGER, "thirty") == "input 'i' expects a whole number, got 'thirty'"
    assert message(INTEGER, True) == "input 'i' expects a whole number, got true"
    assert message(CHOICE, "x") == "input 'c' expects one of formal, casual, Casual, got 'x'"
    assert message(OBJECT, "[1]") == "input 'o' expects a JSON object, got '[1]'"
    assert message(OBJECT, "{oops").startswith(
        "input 'o' expects a JSON object, got '{oops' (not valid JSON: line 1, column 2"
    )
    assert message(NUMBER, "1e999") == "input 'n' expects a number, got '1e999' (too large)"
    long = message(STRING, ["x" * 100])
    assert long.endswith('..."') or long.endswith("...")
    assert len(long) < 120


SPECS = [
    InputSpec("topic"),
    InputSpec("age", InputType.INTEGER),
    InputSpec("budget", InputType.NUMBER, required=False, default="2_500"),
    InputSpec("tags", InputType.LIST, required=False, default=["x"]),
    InputSpec("lang", required=False, default="en"),
    InputSpec("note", required=False),
]


def test_build_inputs_merges_converts_and_fills_defaults() -> None:
    values = build_inputs(
        SPECS,
        typed={"topic": "file", "age": 40.0, "note": None},
        texts={"topic": "typed", "lang": "  "},
    )
    # Texts win; a float with no fraction is an integer; defaults go through the same rules
    # (the form shows "2_500" and sends 2500); blank and null are not given.
    assert values == {"topic": "typed", "age": 40, "budget": 2500, "tags": ["x"], "lang": "en"}
    assert type(values["age"]) is int


def test_build_inputs_refuses_unknown_names_and_missing_required_inputs() -> None:
    with pytest.raises(UnknownInputsError) as unknown:
        build_inputs(SPECS, texts={"topc": "x", "topic": "y", "age": "1"})
    assert unknown.value.names == ("topc",)
    assert "this crew takes: topic, age, budget" in unknown.value.message
    with pytest.raises(MissingInputsError) as missing:
        build_inputs(SPECS, texts={"topic": " ", "budget": "1"})
    assert missing.value.names == ("topic", "age")
    assert missing.value.message == "missing required inputs: topic, age"


def test_without_specs_values_are_sent_as_given() -> None:
    assert build_inputs([], typed={"a": 1}, texts={"b": "2"}) == {"a": 1, "b": "2"}


# -- what an editor shows parses back to the same value ---------------------------------------

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_SPECS = [STRING, TEXT, INTEGER, NUMBER, BOOLEAN, CHOICE, OPEN_CHOICE, LIST, OBJECT, JSON, DATE]


@given(
    spec=st.sampled_from(_SPECS),
    value=_JSONISH
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.dates()
    | st.sampled_from(["{oops", "[1", " 12", "true", "a, b", "1_000", "3.0", "Formal", " "]),
)
def test_the_text_an_editor_shows_parses_back_to_the_same_value(
    spec: InputSpec, value: Any
) -> None:
    """Presets, remembered inputs and defaults are shown as text and sent from that text: what
    the form sends must be what the CLI sends for the typed value."""
    try:
        expected = check_value(spec, value)
    except InputError:
        return  # a value that does not fit is shown as it is, and refused either way
    parsed = parse_text(spec, to_text(spec, value))
    assert parsed == expected
    assert type(parsed) is type(expected)
    if isinstance(expected, float):
        assert not math.isnan(expected)


def test_a_presets_toml_dates_become_iso_text_at_any_depth() -> None:
    preset = {
        "due": dt.date(2025, 1, 31),
        "slots": [dt.time(9, 30)],
        "o": {"at": dt.date(2025, 2, 1)},
    }
    assert preset_values(preset) == {
        "due": "2025-01-31",
        "slots": ["09:30:00"],
        "o": {"at": "2025-02-01"},
    }
