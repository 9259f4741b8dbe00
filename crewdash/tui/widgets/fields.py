"""One form field per input: its editor, label, hint and error. What was typed becomes a typed
value by the rules of `crewdash.core.inputs`, the same as on the command line."""

from __future__ import annotations

import re
from typing import Any, Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch, TextArea

from crewdash.aop.models import InputSpec, InputType
from crewdash.core import inputs
from crewdash.core.inputs import NOT_GIVEN, InputError

# The form's names for the core's: one set of rules for the form, the CLI and batch files.
FieldError = InputError
MISSING: Final = NOT_GIVEN  # an empty optional field: left out of the values sent

# The editor each type gets; anything else (object, list, unknown) gets a text area.
_LINE_TYPES = {InputType.STRING, InputType.INTEGER, InputType.NUMBER}


def field_dom_id(index: int, name: str) -> str:
    """A DOM id that is valid whatever characters the input's name holds."""
    return f"field-{index}-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def type_hint(spec: InputSpec) -> str:
    """The short type word shown beside the label."""
    if spec.type is InputType.JSON:
        return f"JSON ({spec.raw_type})" if spec.raw_type not in ("json", "") else "JSON"
    return {
        InputType.STRING: "text",
        InputType.TEXT: "long text",
        InputType.INTEGER: "whole number",
        InputType.NUMBER: "number",
        InputType.BOOLEAN: "yes/no",
        InputType.CHOICE: "choice",
        InputType.LIST: "list: a, b or JSON",
    }[spec.type]


def parse_text(spec: InputSpec, text: str) -> object:
    """What was typed in an editor as the typed value sent; `MISSING` if blank and optional.
    Raises FieldError. The rules are `crewdash.core.inputs`', the CLI's too."""
    return inputs.require(spec, inputs.parse_text(spec, text))


def coerce(spec: InputSpec, value: object) -> object:
    """A value from raw JSON, a preset or a Select checked against its input; `MISSING` if
    null or blank and optional. Raises FieldError."""
    return inputs.require(spec, inputs.check_value(spec, value))


def to_text(spec: InputSpec, value: object) -> str:
    """A value as the text an editor shows; parsing that text gives the value back."""
    return inputs.to_text(spec, value)


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
            return Switch(value=_checked(spec, initial) is True, tooltip=tip)
        if spec.type is InputType.CHOICE:
            choice = _checked(spec, initial)
            value = choice if choice in spec.choices else Select.NULL
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
            editor.value = _checked(spec, value) is True
        elif isinstance(editor, Select):
            checked = _checked(spec, value)
            editor.value = checked if checked in spec.choices else Select.NULL
        elif isinstance(editor, Input):
            # Text is shown as it is, valid or not (to_text keeps strings).
            editor.value = to_text(spec, value)
        else:
            assert isinstance(editor, TextArea)
            editor.load_text(to_text(spec, value))
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


def _checked(spec: InputSpec, value: object) -> object:
    """A preset's or default's value as the editor shows it ("yes" is on, "Formal" selects
    "formal"), None when it does not fit."""
    try:
        return inputs.check_value(spec, value)
    except InputError:
        return None


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
