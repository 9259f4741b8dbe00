"""The same text gives the same value, or the same refusal, in the form and on the command line,
and the form's kickoff inputs are the CLI's: every row of tests/input_cases.py through both."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, TextArea

from crewdash.aop.models import InputSpec, InputType
from crewdash.commands.support.values import InputValueError, build_inputs, parse_assignments
from crewdash.core.inputs import NOT_GIVEN
from crewdash.tui.widgets.input_form import InputForm
from tests.input_cases import REFUSED, TEXT_TABLE

# A switch and a select take no text: their rows go through the form's raw JSON.
_NO_TEXT_EDITOR = (InputType.BOOLEAN, InputType.CHOICE)

# One input per row, named after the row, so one form holds the whole table.
ROWS = [
    (dataclasses.replace(spec, name=f"row{index}"), text, expected is not REFUSED)
    for index, (spec, text, expected) in enumerate(TEXT_TABLE)
]
FIELD_ROWS = [row for row in ROWS if row[0].type not in _NO_TEXT_EDITOR]
RAW_ROWS = [row for row in ROWS if row[0].type in _NO_TEXT_EDITOR]


def cli(spec: InputSpec, text: str) -> Any:
    """What `crewdash kickoff -i name=text` sends for the input, or its refusal's message."""
    try:
        values = build_inputs([spec], texts=parse_assignments([f"{spec.name}={text}"]))
    except InputValueError as exc:
        return exc.message
    return values.get(spec.name, NOT_GIVEN)


def form_result(form: InputForm, name: str) -> Any:
    """What the form sends for the input, or the message it shows."""
    errors = form.errors()
    if name in errors:
        return errors[name]
    return form.current_values().get(name, NOT_GIVEN)


class FormApp(App[None]):
    def __init__(self, specs: list[InputSpec]) -> None:
        super().__init__()
        self.specs = specs
        self.submitted: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield InputForm(self.specs, id="form")

    def on_input_form_submitted(self, event: InputForm.Submitted) -> None:
        self.submitted.append(event.values)


def _type_into(form: InputForm, spec: InputSpec, text: str) -> None:
    editor = form.field(spec.name).editor
    if isinstance(editor, Input):
        editor.value = text
    else:
        assert isinstance(editor, TextArea)
        editor.load_text(text)


def _assert_same(form_value: Any, cli_value: Any, spec: InputSpec, text: str) -> None:
    assert form_value == cli_value, f"{spec.type} {text!r}: form {form_value!r}, CLI {cli_value!r}"
    assert type(form_value) is type(cli_value), f"{spec.type} {text!r}"


async def test_typed_fields_and_the_command_line_agree() -> None:
    app = FormApp([spec for spec, _, _ in FIELD_ROWS])
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        for spec, text, _ in FIELD_ROWS:
            _type_into(form, spec, text)
        await pilot.pause()
        for spec, text, _ in FIELD_ROWS:
            _assert_same(form_result(form, spec.name), cli(spec, text), spec, text)

        # The kickoff body: refused rows blanked, the rest sent as the CLI sends them.
        for spec, _, ok in FIELD_ROWS:
            if not ok:
                _type_into(form, spec, "")
        await pilot.pause()
        await form.run_action("submit")
        await pilot.pause()
    valid = {spec.name: text for spec, text, ok in FIELD_ROWS if ok}
    sent_by_cli = build_inputs([spec for spec, _, _ in FIELD_ROWS], texts=valid)
    (sent_by_form,) = app.submitted
    assert sent_by_form == sent_by_cli and sent_by_form  # not vacuous
    assert {k: type(v) for k, v in sent_by_form.items()} == {
        k: type(v) for k, v in sent_by_cli.items()
    }  # 3 is not 3.0
    assert json.dumps(sent_by_form, sort_keys=True) == json.dumps(sent_by_cli, sort_keys=True)


async def test_switches_and_selects_take_raw_text_as_the_command_line_does() -> None:
    app = FormApp([spec for spec, _, _ in RAW_ROWS])
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        assert form.set_raw_mode(True)
        raw = form.query_one("#form-raw", TextArea)
        raw.load_text(json.dumps({spec.name: text for spec, text, _ in RAW_ROWS}))
        await pilot.pause()
        for spec, text, _ in RAW_ROWS:
            _assert_same(form_result(form, spec.name), cli(spec, text), spec, text)
