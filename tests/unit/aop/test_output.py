"""parse_output: a run's output as JSON, a dataclass, or a pydantic-style model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from crewdash.aop import ProtocolError, RunResult, parse_output


@dataclass
class Place:
    city: str
    days: int


@dataclass
class Plan:
    title: str
    places: list[Place] = field(default_factory=list)
    home: Place | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class Trip:
    title: str
    first: Place


def test_json_output_is_parsed():
    assert parse_output(RunResult(output='{"a": [1, 2]}')) == {"a": [1, 2]}


def test_a_markdown_code_fence_around_the_json_is_allowed():
    assert parse_output(RunResult(output='```json\n{"a": 1}\n```\n')) == {"a": 1}


def test_output_that_is_not_json_is_a_protocol_error_that_says_so():
    with pytest.raises(ProtocolError, match="not JSON") as caught:
        parse_output(RunResult(output="Here is your itinerary: ..."))
    assert "Here is your itinerary" in str(caught.value)


def test_into_a_dataclass_ignoring_unknown_keys_and_converting_nested_ones():
    trip = parse_output(
        RunResult(output='{"title": "Japan", "first": {"city": "Tokyo", "days": 3}, "x": 1}'), Trip
    )
    assert trip == Trip(title="Japan", first=Place(city="Tokyo", days=3))


def test_dataclasses_inside_lists_and_optionals_are_converted():
    plan = parse_output(
        RunResult(
            output='{"title": "t", "places": [{"city": "Kyoto", "days": 2}], '
            '"home": {"city": "Oslo", "days": 0}, "tags": ["a"]}'
        ),
        Plan,
    )
    assert plan.places == [Place("Kyoto", 2)]
    assert plan.home == Place("Oslo", 0)
    assert plan.tags == ["a"]
    assert parse_output(RunResult(output='{"title": "t", "home": null}'), Plan).home is None


def test_a_missing_field_is_a_protocol_error_naming_the_type():
    with pytest.raises(ProtocolError, match="does not fit Trip"):
        parse_output(RunResult(output='{"title": "Japan"}'), Trip)


def test_a_dataclass_needs_an_object():
    with pytest.raises(ProtocolError, match="expected a JSON object"):
        parse_output(RunResult(output="[1]"), Place)


def test_plain_types_are_checked():
    assert parse_output(RunResult(output="[1, 2]"), list) == [1, 2]
    assert parse_output(RunResult(output="3"), float) == 3.0
    with pytest.raises(ProtocolError, match="expected dict"):
        parse_output(RunResult(output="[1]"), dict)


class FakeModel:
    """Duck-typed like a pydantic model: a `model_validate` class method."""

    def __init__(self, data):
        self.data = data

    @classmethod
    def model_validate(cls, value):
        if not isinstance(value, dict) or "name" not in value:
            raise ValueError("1 validation error for FakeModel\nname\n  Field required")
        return cls(value)


def test_into_a_pydantic_style_model():
    model = parse_output(RunResult(output='{"name": "x"}'), FakeModel)
    assert isinstance(model, FakeModel) and model.data == {"name": "x"}


def test_a_model_that_refuses_the_value_becomes_a_protocol_error_with_its_words():
    with pytest.raises(ProtocolError, match="Field required"):
        parse_output(RunResult(output='{"other": 1}'), FakeModel)


@dataclass
class Holder:
    model: FakeModel


def test_models_nested_in_dataclasses_are_validated_too():
    holder = parse_output(RunResult(output='{"model": {"name": "n"}}'), Holder)
    assert isinstance(holder.model, FakeModel)
