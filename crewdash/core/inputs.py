"""The one place that turns what an operator gave into the typed inputs a crew expects.

The form (each field's text), the CLI (`-i name=value`, `--inputs-file`), batch files (CSV cells,
JSONL rows) and presets all go through here, so the same text gives the same value everywhere and
the kickoff body is the same whichever front end sent it.

Text (a form field, `-i name=value`, a CSV cell), by the input's declared type:

- Blank (empty or only spaces), for every type: not given. A required input not given is an error;
  an optional one is left out (the CLI and batch files then send its default, if it has one; the
  form shows the default in the field, so what is sent is what is shown).
- string, text: sent exactly as typed, spaces included.
- integer: optional sign, ASCII digits, `_` between digits as a separator: "1_000" is 1000.
  "3.0", "1e3" and "1,000" are refused (is "1,000" one thousand or one?).
- number: an integer as above is sent as an integer ("3" is 3); a decimal or exponent as a float
  ("2.5", "1e3" is 1000.0). Not a number, infinity and non-ASCII digits are refused.
- boolean: true/false, yes/no, y/n, on/off, 1/0, in any case.
- choice: one of the choices, surrounding spaces ignored; a unique case-insensitive match is sent
  in the choice's spelling ("FORMAL" is "formal"). With no list of choices, any text.
- list: a JSON array ("[1, 2]") when the text starts with "["; otherwise comma-separated strings,
  each trimmed, empty ones dropped ("a, b" is ["a", "b"]). Text starting with "{" is refused.
- object (declared object, dict, map, mapping): a JSON object, nothing else.
- json and any type we do not know (date, email...): JSON when the text parses as JSON, else the
  text as typed ("2025-01-31" stays a string); text starting with "{" or "[" must be valid JSON,
  since it was meant as JSON.

Values that are already typed (an inputs file, a JSONL row, a preset, the form's raw JSON):

- null means not given, like blank text. A string goes through the text rules above (a JSON file
  may hold "1_000" or "a, b"), except for json and unknown types, where a string is a value.
- integer: an int; a float with no fraction (3.0) is sent as 3. number: an int or a finite float,
  kept as it is (3 stays 3, 3.0 stays 3.0). boolean: true/false, or 1/0. list: an array.
  object: a JSON object. string, text and choice: a string only. A bool is never a number.
  TOML dates and times become ISO text.
- A default the crew publishes is a typed value too ("5" for an integer is sent as 5), in the
  form's field and from the CLI alike. A crew that publishes no inputs gets values as given.

Errors name the input, the type expected and the value given:
`input 'age' expects a whole number, got 'thirty'`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Final

from crewdash.aop.models import InputSpec, InputType


class NotGiven(Enum):
    """The marker of an input that was left blank: not sent."""

    NOT_GIVEN = "not given"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


class InputError(ValueError):
    """A value that does not fit its input; `message` is for the operator."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name


class UnknownInputsError(InputError):
    """Names given that the crew does not take."""

    def __init__(self, names: Sequence[str], known: Sequence[str]) -> None:
        plural = "s" if len(names) > 1 else ""
        super().__init__(
            f"unknown input{plural} {', '.join(names)} (this crew takes: {', '.join(known)})"
        )
        self.names = tuple(names)
        self.known = tuple(known)


class MissingInputsError(InputError):
    """Required inputs that were not given and have no default."""

    def __init__(self, names: Sequence[str]) -> None:
        plural = "s" if len(names) > 1 else ""
        super().__init__(f"missing required input{plural}: {', '.join(names)}")
        self.names = tuple(names)


_INT = re.compile(r"[+-]?\d+(?:_\d+)*", re.ASCII)
_DIGITS = r"\d+(?:_\d+)*"
_NUMBER = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?\d+)?", re.ASCII
)
_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})
# Unknown server types map to InputType.JSON; only these demand a JSON object.
_OBJECT_TYPES = frozenset({"object", "dict", "map", "mapping"})
_SHOWN_MAX = 60


def is_object(spec: InputSpec) -> bool:
    """Whether the input takes a JSON object (declared object, dict, map or mapping)."""
    return spec.type is InputType.JSON and spec.raw_type.strip().lower() in _OBJECT_TYPES


def expected(spec: InputSpec) -> str:
    """What the input takes, in words: "a whole number", "one of formal, casual"."""
    kind = spec.type
    if kind is InputType.CHOICE and spec.choices:
        return "one of " + ", ".join(spec.choices)
    if kind is InputType.JSON:
        if is_object(spec):
            return "a JSON object"
        return "JSON" if spec.raw_type.strip().lower() in ("json", "") else spec.raw_type
    return {
        InputType.STRING: "text",
        InputType.TEXT: "text",
        InputType.INTEGER: "a whole number",
        InputType.NUMBER: "a number",
        InputType.BOOLEAN: "a boolean (yes/no, true/false, 1/0)",
        InputType.CHOICE: "a choice",
        InputType.LIST: "a list (comma-separated, or a JSON array)",
    }[kind]


def refusal(spec: InputSpec, given: object, detail: str = "") -> InputError:
    """The error for `given`, which does not fit `spec`."""
    if isinstance(given, str):
        shown = given if len(given) <= _SHOWN_MAX else given[: _SHOWN_MAX - 3] + "..."
        shown = repr(shown)
    else:
        shown = json.dumps(given, default=str)
        if len(shown) > _SHOWN_MAX:
            shown = shown[: _SHOWN_MAX - 3] + "..."
    message = f"input {spec.name!r} expects {expected(spec)}, got {shown}"
    return InputError(f"{message} ({detail})" if detail else message, name=spec.name)


def require(spec: InputSpec, value: object) -> object:
    """`value`, unless it is not given and the input is required."""
    if value is NOT_GIVEN and spec.required:
        raise InputError(f"{spec.name} is required", name=spec.name)
    return value


# -- text ------------------------------------------------------------------------------------


def _integer(spec: InputSpec, text: str) -> object:
    stripped = text.strip()
    if not _INT.fullmatch(stripped):
        raise refusal(spec, text)
    return int(stripped)


def _number(spec: InputSpec, text: str) -> object:
    stripped = text.strip()
    if _INT.fullmatch(stripped):
        return int(stripped)
    if not _NUMBER.fullmatch(stripped):
        raise refusal(spec, text)
    number = float(stripped)
    if not math.isfinite(number):  # "1e999"
        raise refusal(spec, text, "too large")
    return number


def _boolean(spec: InputSpec, text: str) -> object:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise refusal(spec, text)


def _choice(spec: InputSpec, text: str) -> object:
    if not spec.choices:
        return text
    stripped = text.strip()
    if stripped in spec.choices:
        return stripped
    folded = [choice for choice in spec.choices if choice.casefold() == stripped.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise refusal(spec, text)


def _json(spec: InputSpec, text: str) -> object:
    """Parsed JSON, or the refusal naming where it stopped parsing."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise refusal(
            spec, text, f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:  # "[[[[..." thousands deep
        raise refusal(spec, text, "nested too deep") from None


def _list(spec: InputSpec, text: str) -> object:
    stripped = text.strip()
    if stripped.startswith("{"):
        raise refusal(spec, text, "a JSON object is not a list")
    if not stripped.startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    parsed = _json(spec, stripped)
    if not isinstance(parsed, list):  # "[1] x" fails to parse; this is defensive
        raise refusal(spec, text)
    return parsed


def _json_value(spec: InputSpec, text: str) -> object:
    stripped = text.strip()
    if is_object(spec):
        parsed = _json(spec, stripped)
        if not isinstance(parsed, dict):
            raise refusal(spec, text)
        return parsed
    if stripped.startswith(("{", "[")):
        return _json(spec, stripped)
    try:
        return json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        return text  # a date, an email...: send what was typed


_FROM_TEXT: Final[dict[InputType, Callable[[InputSpec, str], object]]] = {
    InputType.STRING: lambda _spec, text: text,
    InputType.TEXT: lambda _spec, text: text,
    InputType.INTEGER: _integer,
    InputType.NUMBER: _number,
    InputType.BOOLEAN: _boolean,
    InputType.CHOICE: _choice,
    InputType.LIST: _list,
    InputType.JSON: _json_value,
}


def parse_text(spec: InputSpec, text: str) -> object:
    """Text the operator typed as the input's value; `NOT_GIVEN` when blank. Raises InputError."""
    if not text.strip():
        return NOT_GIVEN
    return _FROM_TEXT[spec.type](spec, text)


# -- typed values ----------------------------------------------------------------------------


def _typed_ok(spec: InputSpec, value: object) -> object | None:
    """The value if it already has the input's type (converted where lossless), else None."""
    kind = spec.type
    if kind in (InputType.INTEGER, InputType.NUMBER, InputType.BOOLEAN):
        if isinstance(value, bool):  # a bool is an int to Python, never a number here
            return value if kind is InputType.BOOLEAN else None
        if not isinstance(value, int | float) or not math.isfinite(value):
            return None
        if kind is InputType.NUMBER:
            return value
        if kind is InputType.BOOLEAN:
            return bool(value) if value in (0, 1) and isinstance(value, int) else None
        if isinstance(value, int):
            return value
        return int(value) if value.is_integer() else None  # 3.0 is the integer 3
    if kind is InputType.LIST:
        return value if isinstance(value, list) else None
    if kind is InputType.JSON:  # an object; json and unknown types never get here
        return value if isinstance(value, dict) else None
    return None  # string, text and choice take strings only, checked by the text rules


def check_value(spec: InputSpec, value: object) -> object:
    """An already typed value (JSON, TOML) checked against the input and converted where the
    rules say; `NOT_GIVEN` for null or blank. Raises InputError."""
    if isinstance(value, dt.date | dt.time):  # TOML presets; datetime is a date
        value = value.isoformat()
    if value is None or value is NOT_GIVEN:
        return NOT_GIVEN
    if spec.type is InputType.JSON and not is_object(spec):
        return NOT_GIVEN if isinstance(value, str) and not value.strip() else value
    if isinstance(value, str):
        return parse_text(spec, value)
    checked = _typed_ok(spec, value)
    if checked is None:
        raise refusal(spec, value)
    return checked


def to_text(spec: InputSpec, value: object) -> str:
    """A value as the text an editor shows; `parse_text` of it gives `check_value` of it back."""
    if isinstance(value, dt.date | dt.time):
        value = value.isoformat()
    if value is None or value is NOT_GIVEN:
        return ""
    if isinstance(value, str):
        if spec.type is InputType.JSON and not is_object(spec) and value.strip():
            # A string that would not read back as itself ("12", "{x") is shown quoted.
            return value if _reads_back(spec, value) else json.dumps(value, ensure_ascii=False)
        return value
    if spec.type is InputType.INTEGER and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if spec.type in (InputType.LIST, InputType.JSON):
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return json.dumps(value, ensure_ascii=False, default=str)


def _reads_back(spec: InputSpec, text: str) -> bool:
    try:
        return parse_text(spec, text) == text
    except InputError:
        return False


def json_ready(value: object) -> object:
    """`value` with TOML dates and times (a preset's) as ISO text, at any depth: what JSON can
    carry, and what `check_value` makes of a date."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    return value


def preset_values(preset: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's values (TOML) as typed values: dates and times as ISO text, as the CLI sends a
    date; each is then shown and checked by the rules above like any typed value."""
    return {name: json_ready(value) for name, value in preset.items()}


# -- a whole set of inputs -------------------------------------------------------------------


def build_inputs(
    specs: Sequence[InputSpec],
    *,
    typed: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Typed values (a file, a row) and text values (which win) as the kickoff's inputs: each
    converted with its spec, unknown names refused, defaults filled in for inputs not given,
    missing required inputs refused. Without specs (the crew published none) the values are
    sent as given."""
    by_name = {spec.name: spec for spec in specs}
    given: dict[str, tuple[object, bool]] = {name: (v, False) for name, v in (typed or {}).items()}
    given.update({name: (text, True) for name, text in (texts or {}).items()})
    if by_name:
        unknown = sorted(name for name in given if name not in by_name)
        if unknown:
            raise UnknownInputsError(unknown, list(by_name))
    result: dict[str, Any] = {}
    for name, (value, is_text) in given.items():
        spec = by_name.get(name)
        if spec is None:
            result[name] = value
            continue
        converted = parse_text(spec, str(value)) if is_text else check_value(spec, value)
        if converted is not NOT_GIVEN:
            result[name] = converted
    for spec in specs:
        if spec.name not in result and spec.default is not None:
            # The form shows the default through the same rules: the same value is sent.
            default = check_value(spec, spec.default)
            if default is not NOT_GIVEN:
                result[spec.name] = default
    missing = [spec.name for spec in specs if spec.required and spec.name not in result]
    if missing:
        raise MissingInputsError(missing)
    return result
