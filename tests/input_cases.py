"""The table of operator text and the value each input type sends: one set of rules
(`crewdash.core.inputs`), run by tests/unit/core/test_inputs.py and, through both front ends,
by tests/tui/test_inputs_both_front_ends.py."""

from __future__ import annotations

from typing import Any

from crewdash.aop.models import InputSpec, InputType
from crewdash.core.inputs import NOT_GIVEN, InputError

STRING = InputSpec("s", InputType.STRING, required=False)
TEXT = InputSpec("t", InputType.TEXT, required=False)
INTEGER = InputSpec("i", InputType.INTEGER, required=False)
NUMBER = InputSpec("n", InputType.NUMBER, required=False)
BOOLEAN = InputSpec("b", InputType.BOOLEAN, required=False)
CHOICE = InputSpec("c", InputType.CHOICE, required=False, choices=("formal", "casual", "Casual"))
OPEN_CHOICE = InputSpec("oc", InputType.CHOICE, required=False, raw_type="enum")
LIST = InputSpec("l", InputType.LIST, required=False, raw_type="array")
OBJECT = InputSpec("o", InputType.JSON, required=False, raw_type="object")
MAPPING = InputSpec("m", InputType.JSON, required=False, raw_type="Mapping")
JSON = InputSpec("j", InputType.JSON, required=False, raw_type="json")
DATE = InputSpec("d", InputType.JSON, required=False, raw_type="date")

REFUSED = InputError  # the expected "value" of a row whose text is refused

# (spec, text, value sent, or REFUSED)
TEXT_TABLE: list[tuple[InputSpec, str, Any]] = [
    # blank is "not given" for every type
    *[
        (spec, blank, NOT_GIVEN)
        for spec in (STRING, INTEGER, NUMBER, BOOLEAN, CHOICE, LIST, OBJECT)
        for blank in ("", "  ")
    ],
    (TEXT, " \n ", NOT_GIVEN),
    (JSON, " ", NOT_GIVEN),
    # strings are kept exactly
    (STRING, "AI = fun", "AI = fun"),
    (STRING, "  padded ", "  padded "),
    (STRING, "42", "42"),
    (TEXT, "two\nlines", "two\nlines"),
    # integers
    (INTEGER, "42", 42),
    (INTEGER, " -7 ", -7),
    (INTEGER, "+3", 3),
    (INTEGER, "1_000", 1000),
    (INTEGER, "007", 7),
    (INTEGER, "1__000", REFUSED),
    (INTEGER, "_1", REFUSED),
    (INTEGER, "3.0", REFUSED),
    (INTEGER, "3.5", REFUSED),
    (INTEGER, "1e3", REFUSED),
    (INTEGER, "1,000", REFUSED),
    (INTEGER, "thirty", REFUSED),
    (INTEGER, "١٢", REFUSED),  # non-ASCII digits
    (INTEGER, "true", REFUSED),
    # numbers: integers stay integers, decimals are floats
    (NUMBER, "3", 3),
    (NUMBER, "1_500", 1500),
    (NUMBER, "2.5", 2.5),
    (NUMBER, " -0.25 ", -0.25),
    (NUMBER, ".5", 0.5),
    (NUMBER, "3.", 3.0),
    (NUMBER, "3.0", 3.0),
    (NUMBER, "1e3", 1000.0),
    (NUMBER, "1_000.5", 1000.5),
    (NUMBER, "nan", REFUSED),
    (NUMBER, "inf", REFUSED),
    (NUMBER, "1e999", REFUSED),
    (NUMBER, "lots", REFUSED),
    (NUMBER, "1.2.3", REFUSED),
    (NUMBER, "٣", REFUSED),
    # booleans
    *[(BOOLEAN, word, True) for word in ("true", "Yes", "y", "ON", "1", " yes ")],
    *[(BOOLEAN, word, False) for word in ("false", "NO", "n", "off", "0")],
    (BOOLEAN, "maybe", REFUSED),
    (BOOLEAN, "2", REFUSED),
    # choices: exact, or a unique case-insensitive match in the choice's spelling
    (CHOICE, "formal", "formal"),
    (CHOICE, " formal ", "formal"),
    (CHOICE, "FORMAL", "formal"),
    (CHOICE, "Casual", "Casual"),
    (CHOICE, "CASUAL", REFUSED),  # casual or Casual?
    (CHOICE, "angry", REFUSED),
    (OPEN_CHOICE, "anything", "anything"),
    # lists: comma-separated strings, or a JSON array
    (LIST, "a, b,c", ["a", "b", "c"]),
    (LIST, "a,,b, ", ["a", "b"]),
    (LIST, "single", ["single"]),
    (LIST, ",", []),
    (LIST, '["a, b", 2]', ["a, b", 2]),
    (LIST, " [] ", []),
    (LIST, "[1,", REFUSED),
    (LIST, '{"a": 1}', REFUSED),
    # objects: a JSON object only
    (OBJECT, '{"x": [1, 2]}', {"x": [1, 2]}),
    (MAPPING, "{}", {}),
    (OBJECT, "[1]", REFUSED),
    (OBJECT, "{oops", REFUSED),
    (OBJECT, "plain", REFUSED),
    # json and unknown types: JSON when it parses, else the text as typed
    (JSON, '{"a": 1}', {"a": 1}),
    (JSON, "[1, 2]", [1, 2]),
    (JSON, "12", 12),
    (JSON, '"12"', "12"),
    (JSON, "true", True),
    (JSON, "hello", "hello"),
    (JSON, "{oops", REFUSED),
    (DATE, "2025-01-31", "2025-01-31"),
    (DATE, "[2025", REFUSED),
]
