"""Turning what an operator typed into the typed inputs a crew expects.

`-i age=35` becomes the integer 35 when the crew's input spec says integer. A wrong value is
refused here, before anything is sent, with a message that names the input and the type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crewdash.aop.models import InputSpec, InputType
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.errors import CliError

_INT = re.compile(r"[+-]?\d+")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
# Unknown server types map to InputType.JSON; only these really demand JSON text.
_STRICT_JSON_TYPES = {"json", "object", "dict", "map", "mapping"}
_EXPECTED = {
    InputType.INTEGER: "an integer",
    InputType.NUMBER: "a number",
    InputType.BOOLEAN: "a boolean (true/false)",
    InputType.LIST: "a list (JSON array or comma-separated)",
    InputType.JSON: "JSON",
}


class InputValueError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=ExitCode.USAGE, kind="validation")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """`["a=1", "b=x=y"]` → `{"a": "1", "b": "x=y"}`; the last of repeated keys wins."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputValueError(f"-i expects key=value, got {item!r}")
        values[key] = value
    return values


def read_inputs_file(path: Path) -> dict[str, Any]:
    """A JSON object of input values; its values are already typed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputValueError(f"inputs file {path} does not exist") from None
    except OSError as exc:
        raise InputValueError(f"cannot read inputs file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputValueError(
            f"inputs file {path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise InputValueError(f"inputs file {path} must hold a JSON object of input values")
    return data


def _describe(spec: InputSpec) -> str:
    if spec.type is InputType.CHOICE and spec.choices:
        return "one of " + ", ".join(spec.choices)
    if spec.type is InputType.JSON and spec.raw_type.lower() in ("object", "dict"):
        return "a JSON object"
    return _EXPECTED.get(spec.type, spec.raw_type or "a string")


def _refuse(spec: InputSpec, value: Any) -> InputValueError:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InputValueError(f"input {spec.name!r} expects {_describe(spec)}, got {shown!r}")


def convert_text(spec: InputSpec, text: str) -> Any:
    """A value typed as text (command line, CSV cell) converted to the spec's type."""
    kind = spec.type
    stripped = text.strip()
    if kind in (InputType.STRING, InputType.TEXT):
        return text
    if kind is InputType.INTEGER:
        if not _INT.fullmatch(stripped):
            raise _refuse(spec, text)
        return int(stripped)
    if kind is InputType.NUMBER:
        if _INT.fullmatch(stripped):
            return int(stripped)
        try:
            number = float(stripped)
        except ValueError:
            raise _refuse(spec, text) from None
        if not math.isfinite(number):
            raise _refuse(spec, text)
        return number
    if kind is InputType.BOOLEAN:
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _refuse(spec, text)
    if kind is InputType.CHOICE:
        if spec.choices and text not in spec.choices:
            raise _refuse(spec, text)
        return text
    if kind is InputType.LIST:
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError:
                raise _refuse(spec, text) from None
            if not isinstance(parsed, list):
                raise _refuse(spec, text)
            return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    # JSON (objects, and any type the server named that we do not know)
    try:
        parsed = json.loads(stripped)
    except json.JSONDecodeError:
        if spec.raw_type.lower() in _STRICT_JSON_TYPES:
            raise _refuse(spec, text) from None
        return text  # an unknown type such as "date": send what was typed
    if spec.raw_type.lower() in ("object", "dict") and not isinstance(parsed, dict):
        raise _refuse(spec, text)
    return parsed


def check_typed(spec: InputSpec, value: Any) -> Any:
    """A value that is already typed (JSON file, JSONL row): check it, convert text."""
    if isinstance(value, str) and spec.type not in (InputType.STRING, InputType.TEXT):
        return convert_text(spec, value)
    kind = spec.type
    ok = True
    if kind in (InputType.STRING, InputType.TEXT):
        ok = isinstance(value, str)
    elif kind is InputType.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind is InputType.NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is InputType.BOOLEAN:
        ok = isinstance(value, bool)
    elif kind is InputType.CHOICE:
        ok = not spec.choices or value in spec.choices
    elif kind is InputType.LIST:
        ok = isinstance(value, list)
    if not ok:
        raise _refuse(spec, value)
    return value


def build_inputs(
    specs: Sequence[InputSpec],
    *,
    typed: Mapping[str, Any] | None = None,
    texts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Merge typed values (a file) and text values (`-i`, which win), convert them with the
    specs, fill defaults and refuse unknown names or missing required inputs."""
    by_name = {spec.name: spec for spec in specs}
    merged: dict[str, tuple[Any, bool]] = {}  # name -> (value, is_text)
    for name, value in (typed or {}).items():
        merged[name] = (value, False)
    for name, text in (texts or {}).items():
        merged[name] = (text, True)

    if by_name:
        unknown = sorted(name for name in merged if name not in by_name)
        if unknown:
            known = ", ".join(by_name)
            raise InputValueError(
                f"unknown input{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(this crew takes: {known})"
            )
    result: dict[str, Any] = {}
    for name, (value, is_text) in merged.items():
        spec = by_name.get(name)
        if spec is None:  # the crew published no inputs: send as given
            result[name] = value
        elif is_text:
            result[name] = convert_text(spec, value)
        else:
            result[name] = check_typed(spec, value)
    for spec in specs:
        if spec.name not in result and spec.default is not None:
            result[spec.name] = spec.default
    missing = [spec.name for spec in specs if spec.required and spec.name not in result]
    if missing:
        raise InputValueError(
            f"missing required input{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(give {' '.join(f'-i {name}=...' for name in missing)})"
        )
    return result
