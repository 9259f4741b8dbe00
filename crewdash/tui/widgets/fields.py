"""One form field per input: its editor, label, hint and error, and the parsing that turns what
was typed into a typed value (integers are ints, JSON is parsed)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch, TextArea

from crewdash.aop.models import InputSpec, InputType


class FieldError(ValueError):
    """A value that does not fit its input; the message names the input."""


class _Missing:
    """An empty optional field: left out of the values sent."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# The editor each type gets; anything else (object, list, unknown) is edited as JSON.
_LINE_TYPES = {InputType.STRING, InputType.INTEGER, InputType.NUMBER}
_JSON_TYPES = {InputType.JSON, InputType.LIST}


def field_dom_id(index: int, name: str) -> str:
    """A DOM id that is valid whatever characters the input's name holds."""
    return f"field-{index}-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def type_hint(spec: InputSpec) -> str:
    """The short type word shown beside the label."""
    if spec.type is InputType.JSON:
        return f"JSON ({spec.raw_type})" if spec.raw_type not in ("json", "") else "JSON"
    if spec.type is InputType.LIST:
        return "JSON list"
    return {
        InputType.STRING: "text",
        InputType.TEXT: "long text",
        InputType.INTEGER: "whole number",
        InputType.NUMBER: "number",
        InputType.BOOLEAN: "yes/no",
        InputType.CHOICE: "choice",
    }[spec.type]


def parse_text(spec: InputSpec, text: str) -> Any:
    """What was typed in a text editor as a typed value, `MISSING` if empty and optional."""
    if spec.type not in (InputType.TEXT,) and not text.strip():
        if spec.required:
            raise FieldError(f"{spec.name} is required")
        return MISSING
    if spec.type is InputType.TEXT:
        if not text and spec.required:
            raise FieldError(f"{spec.name} is required")
        return text if text else MISSING
    if spec.type is InputType.STRING:
        return text
    if spec.type is InputType.INTEGER:
        try:
            return int(text.strip().replace("_", ""))
        except ValueError:
            raise FieldError(f"{spec.name} must be a whole number") from None
    if spec.type is InputType.NUMBER:
        try:
            number = float(text.strip().replace("_", ""))
        except ValueError:
            raise FieldError(f"{spec.name} must be a number") from None
        if not math.isfinite(number):
            raise FieldError(f"{spec.name} must be a finite number")
        return number
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldError(
            f"{spec.name} must be valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return coerce(spec, value)


def coerce(spec: InputSpec, value: Any) -> Any:
    """A value from raw JSON checked against its input; strings of numbers are accepted."""
    kind = spec.type
    if value is None:
        if spec.required:
            raise FieldError(f"{spec.name} is required")
        return MISSING
    if kind in (InputType.STRING, InputType.TEXT):
        if not isinstance(value, str):
            raise FieldError(f"{spec.name} must be text")
        return parse_text(spec, value)
    if kind is InputType.INTEGER:
        if isinstance(value, bool):
            raise FieldError(f"{spec.name} must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            return parse_text(spec, value)
        raise FieldError(f"{spec.name} must be a whole number")
    if kind is InputType.NUMBER:
        if isinstance(value, bool):
            raise FieldError(f"{spec.name} must be a number")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return parse_text(spec, value)
        raise FieldError(f"{spec.name} must be a number")
    if kind is InputType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        raise FieldError(f"{spec.name} must be true or false")
    if kind is InputType.CHOICE:
        if spec.choices and value not in spec.choices:
            raise FieldError(f"{spec.name} must be one of: {', '.join(spec.choices)}")
        return value
    if kind is InputType.LIST and not isinstance(value, list):
        raise FieldError(f"{spec.name} must be a JSON list, like [1, 2]")
    if kind is InputType.JSON and _needs_container(spec) and not isinstance(value, dict):
        raise FieldError(f'{spec.name} must be a JSON object, like {{"key": "value"}}')
    return value


def to_text(spec: InputSpec, value: Any) -> str:
    """A value as the text an editor shows."""
    if value is None or value is MISSING:
        return ""
    if spec.type in _JSON_TYPES:
        return json.dumps(value, indent=2, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer() and spec.type is InputType.NUMBER:
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value) if not isinstance(value, dict | list) else json.dumps(value)


class SpecValidator(Validator):
    """Gives the Input its invalid styling with the same message the form shows."""

    def __init__(self, spec: InputSpec) -> None:
        super().__init__()
        self.spec = spec

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_text(self.spec, value)
        except FieldError as exc:
            return self.failure(str(exc), value)
        return self.success()


class InputField(Horizontal):
    """A label, the editor for one input, its description as a hint, and its error."""

    DEFAULT_CSS = """
    InputField { height: auto; margin: 0 0 1 0; }
    InputField > .field-side { width: 22; height: auto; padding: 1 1 0 0; }
    InputField > .field-side > .field-type { color: $text-muted; }
    InputField > .field-main { width: 1fr; height: auto; }
    InputField .field-hint { color: $text-muted; height: auto; padding: 0 1; }
    InputField .field-error { color: $text-error; height: auto; padding: 0 1; display: none; }
    InputField.-invalid .field-error { display: block; }
    InputField TextArea { height: 4; }
    InputField TextArea.-long { height: 5; }
    InputField Select { width: 1fr; }
    """

    # Priority: the app acts on Tab as it arrives. Otherwise Tab is handled only after the
    # editor's queue, and keys typed right after it (a burst, a busy app) land in the field
    # Tab was meant to leave.
    BINDINGS = [
        Binding(
            "tab",
            "app.focus_next",
            "Next field",
            id="next_field",
            tooltip="Move to the next field",
            show=False,
            priority=True,
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous field",
            id="previous_field",
            tooltip="Move to the previous field",
            show=False,
            priority=True,
        ),
    ]

    class Changed(Message):
        """The field's content changed (typed or set)."""

        def __init__(self, field: InputField) -> None:
            super().__init__()
            self.field = field

    def __init__(
        self, spec: InputSpec, value: Any = MISSING, *, id: str | None = None, compact: bool = False
    ) -> None:
        super().__init__(id=id, classes="input-field")
        self.spec = spec
        self.compact = compact  # one-line editors without borders (a narrow column)
        self._initial = spec.default if value is MISSING else value
        self.touched = False
        self._editor: Widget | None = None

    @property
    def editor(self) -> Widget:
        assert self._editor is not None
        return self._editor

    def compose(self) -> ComposeResult:
        spec = self.spec
        mark = (
            " [b $text-error]*[/]" if spec.required and spec.type is not InputType.BOOLEAN else ""
        )
        with Vertical(classes="field-side"):
            yield Label(f"[b]{_escape(spec.name)}[/]{mark}", classes="field-label")
            yield Label(type_hint(spec), classes="field-type", markup=False)
        with Vertical(classes="field-main"):
            self._editor = self._make_editor()
            yield self._editor
            if spec.description:
                yield Static(spec.description, classes="field-hint", markup=False)
            yield Static("", classes="field-error", markup=False)

    def _make_editor(self) -> Widget:
        spec, initial = self.spec, self._initial
        tip = spec.description or None
        if spec.type is InputType.BOOLEAN:
            return Switch(value=bool(initial), tooltip=tip)
        if spec.type is InputType.CHOICE:
            value = initial if initial in spec.choices else Select.NULL
            return Select(
                [(c, c) for c in spec.choices],
                value=value,
                allow_blank=not spec.required or value is Select.NULL,
                prompt=f"Choose {spec.name}",
                tooltip=tip,
                compact=self.compact,
            )
        if spec.type in _LINE_TYPES:
            return Input(
                to_text(spec, initial),
                placeholder=type_hint(spec),
                validators=[SpecValidator(spec)],
                validate_on=["changed", "submitted"],
                valid_empty=not spec.required,
                tooltip=tip,
                compact=self.compact,
            )
        area = TextArea(
            to_text(spec, initial),
            soft_wrap=True,
            tab_behavior="focus",
            tooltip=tip,
            placeholder=type_hint(spec),
            classes="-long" if spec.type is InputType.TEXT else "-json",
            compact=self.compact,
        )
        return area

    # -- values ----------------------------------------------------------------------------

    def raw(self) -> Any:
        """What the editor holds, untyped: text, a bool, or a choice (None when blank)."""
        editor = self.editor
        if isinstance(editor, Switch):
            return editor.value
        if isinstance(editor, Select):
            return None if editor.value is Select.NULL else editor.value
        if isinstance(editor, Input):
            return editor.value
        assert isinstance(editor, TextArea)
        return editor.text

    def value(self) -> Any:
        """The typed value; `MISSING` when empty and optional. Raises FieldError."""
        raw = self.raw()
        if isinstance(self.editor, Switch):
            return raw
        if isinstance(self.editor, Select):
            return coerce(self.spec, raw)
        return parse_text(self.spec, raw)

    def error(self) -> str | None:
        try:
            self.value()
        except FieldError as exc:
            return str(exc)
        return None

    def set_value(self, value: Any) -> None:
        """Show `value` in the editor (a typed value, or raw text that may be invalid)."""
        editor, spec = self.editor, self.spec
        if isinstance(editor, Switch):
            try:
                editor.value = bool(coerce(spec, value)) if value not in (None, MISSING) else False
            except FieldError:
                editor.value = False
        elif isinstance(editor, Select):
            editor.value = value if value in spec.choices else Select.NULL
        elif isinstance(editor, Input):
            editor.value = value if isinstance(value, str) else to_text(spec, value)
        else:
            assert isinstance(editor, TextArea)
            if isinstance(value, str) and (spec.type is InputType.TEXT or _needs_container(spec)):
                # Text, or what was typed into a list/object field and kept while invalid.
                text = value
            else:
                text = to_text(spec, value)
            editor.load_text(text)
        self.touched = True
        self.show_error(self.error())

    def show_error(self, message: str | None) -> None:
        self.query_one(".field-error", Static).update(message or "")
        self.set_class(bool(message), "-invalid")

    def validate_now(self) -> str | None:
        """Validate and show the result whether or not the field was touched."""
        self.touched = True
        message = self.error()
        self.show_error(message)
        return message

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def _edited(self, event: Message) -> None:
        event.stop()
        self.touched = True
        self.show_error(self.error())
        self.post_message(self.Changed(self))

    def focus_editor(self) -> None:
        self.editor.focus()


def _needs_container(spec: InputSpec) -> bool:
    return spec.type is InputType.LIST or spec.raw_type in ("object", "dict")


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
