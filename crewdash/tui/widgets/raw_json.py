"""The kickoff form's raw-JSON mode without a widget: the editor's text as one object, its values
typed by the crew's input specs, and the one-line summary of what needs attention."""

from __future__ import annotations

import json
from typing import Any

from crewdash.aop.models import InputSpec
from crewdash.tui.widgets.fields import MISSING, FieldError, coerce

RAW_KEY = "raw JSON"  # the key of errors when the raw JSON itself does not parse


def parse_raw_json(text: str) -> dict[str, Any]:
    """The raw-JSON editor's text as an object of values (empty text is no values)."""
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldError(
            f"the raw JSON does not parse (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(parsed, dict):
        raise FieldError('the raw JSON must be an object, like {"topic": "AI"}')
    return parsed


def typed_from_mapping(
    specs: list[InputSpec], mapping: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of `mapping` typed by their specs (names without one pass as they are), and
    input name → message for each value that does not fit and each required input absent."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    by_name = {s.name: s for s in specs}
    for name, value in mapping.items():
        spec = by_name.get(name)
        if spec is None:
            values[name] = value
            continue
        try:
            typed = coerce(spec, value)
        except FieldError as exc:
            errors[name] = str(exc)
            continue
        if typed is not MISSING:
            values[name] = typed
    for spec in specs:
        if spec.required and spec.name not in mapping and spec.name not in errors:
            errors[spec.name] = f"{spec.name} is required"
    return values, errors


def errors_summary(errors: dict[str, str]) -> str:
    """The line over the form: how many inputs need attention and why, or the JSON's fault."""
    count = len(errors)
    head = "1 input needs attention" if count == 1 else f"{count} inputs need attention"
    if list(errors) == [RAW_KEY]:
        return errors[RAW_KEY]
    return f"{head}: " + "; ".join(errors.values())
