"""A completed run's output as data: parsed JSON, or validated into the caller's type.

Supports dataclasses (nested ones too) and, duck-typed, pydantic models (anything with a
`model_validate` class method) without importing pydantic."""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, overload

from crewdash.aop.errors import ProtocolError
from crewdash.aop.models import RunResult

T = TypeVar("T")

# LLM outputs often wrap JSON in a Markdown code fence: ```json ... ```
_FENCE = re.compile(r"\A\s*```[A-Za-z0-9_-]*\s*\n(?P<body>.*?)\n?\s*```\s*\Z", re.DOTALL)


def output_json(result: RunResult) -> Any:
    """The run's output decoded as JSON (a surrounding Markdown code fence is allowed)."""
    raw = result.output
    fenced = _FENCE.match(raw)
    if fenced:
        raw = fenced.group("body")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        preview = result.output.strip()[:60]
        raise ProtocolError(
            f"the run's output is not JSON (it starts with {preview!r}); read it as text "
            "instead, or ask the crew for JSON output"
        ) from None


@overload
def parse_output(result: RunResult, into: None = None) -> Any: ...
@overload
def parse_output(result: RunResult, into: type[T]) -> T: ...
def parse_output(result: RunResult, into: type[T] | None = None) -> Any:
    """The output as JSON, or as an instance of `into` (dataclass or pydantic-style model).
    Raises ProtocolError when the output is not JSON or does not fit `into`."""
    value = output_json(result)
    if into is None:
        return value
    return _convert(value, into, into.__name__)


def _convert(value: Any, into: Any, where: str) -> Any:
    validate = getattr(into, "model_validate", None)
    if callable(validate):
        try:
            return validate(value)
        except Exception as exc:  # pydantic's ValidationError, whatever version the caller has
            raise ProtocolError(f"the run's output does not fit {where}: {exc}") from None
    if dataclasses.is_dataclass(into) and isinstance(into, type):
        return _dataclass(value, into, where)
    origin = typing.get_origin(into) or into
    if isinstance(origin, type) and origin is not typing.Any:
        if origin is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, origin):
            raise ProtocolError(
                f"the run's output does not fit {where}: expected {origin.__name__}, "
                f"got {type(value).__name__}"
            )
    return value


def _dataclass(value: Any, into: type, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ProtocolError(
            f"the run's output does not fit {where}: expected a JSON object, "
            f"got {type(value).__name__}"
        )
    try:
        hints = typing.get_type_hints(into)
    except Exception:  # unresolvable annotations: take the values as they are
        hints = {}
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(into):
        if not f.init or f.name not in value:
            continue
        hint = hints.get(f.name, Any)
        kwargs[f.name] = _field(value[f.name], hint, f"{where}.{f.name}")
    try:
        return into(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ProtocolError(f"the run's output does not fit {where}: {exc}") from None


def _field(value: Any, hint: Any, where: str) -> Any:
    """Nested dataclasses and models are converted — also inside `X | None` and `list[X]`;
    other annotations are taken as given."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        if value is None or len(options) != 1:
            return value
        return _field(value, options[0], where)
    if origin is list and len(args) == 1 and isinstance(value, list):
        return [_field(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if dataclasses.is_dataclass(hint) or callable(getattr(hint, "model_validate", None)):
        return _convert(value, hint, where)
    return value
