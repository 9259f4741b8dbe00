"""The generated input form: typed values, messages that name the input, raw JSON, presets."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypeVar

from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Select, Switch, TextArea

from crewdash.aop.models import InputSpec, InputType
from crewdash.tui.widgets.input_form import InputForm
from crewdash.tui.widgets.raw_json import RAW_KEY

EditorT = TypeVar("EditorT", bound=Widget)

SPECS = [
    InputSpec("topic", InputType.STRING, True, "AI agents", "What the crew researches"),
    InputSpec("brief", InputType.TEXT, False, None, "Anything the writer should know"),
    InputSpec("age", InputType.INTEGER, True, 3, "Max age of sources, in days"),
    InputSpec("budget", InputType.NUMBER, False, 2.5, "Dollars"),
    InputSpec("deep", InputType.BOOLEAN, False, True, "Search deeper"),
    InputSpec("tone", InputType.CHOICE, True, "neutral", "", ("neutral", "playful", "formal")),
    InputSpec("sources", InputType.LIST, False, ["arxiv"], "", (), "array"),
    InputSpec("filters", InputType.JSON, False, None, "Free-form filters", (), "object"),
]


class FormApp(App[None]):
    def __init__(self, specs: list[InputSpec], **kwargs: Any) -> None:
        super().__init__()
        self.specs = specs
        self.kwargs = kwargs
        self.submitted: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield InputForm(self.specs, id="form", **self.kwargs)

    def on_input_form_submitted(self, event: InputForm.Submitted) -> None:
        self.submitted.append(event.values)


def _editor(app: App[None], name: str, kind: type[EditorT]) -> EditorT:
    editor = app.query_one(InputForm).field(name).editor
    assert isinstance(editor, kind)
    return editor


def _input(app: App[None], name: str) -> Input:
    return _editor(app, name, Input)


async def test_submits_typed_values() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        _input(app, "age").value = "42"
        _input(app, "budget").value = "10"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.submitted == [
        {
            "topic": "AI agents",
            "age": 42,
            "budget": 10,  # a number typed as "10" is sent as 10, as the CLI sends it
            "deep": True,
            "tone": "neutral",
            "sources": ["arxiv"],
        }
    ]
    values = app.submitted[0]
    assert type(values["age"]) is int
    assert type(values["budget"]) is int


async def test_wrong_value_is_named_as_you_type_and_blocks_submit() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        age = _input(app, "age")
        age.focus()
        age.value = ""
        await pilot.press(*"abc")
        await pilot.pause()
        field = form.field("age")
        assert field.has_class("-invalid")
        message = "input 'age' expects a whole number, got 'abc'"  # the CLI's words
        assert message in str(field.query_one(".field-error").render())
        assert form.errors() == {"age": message}
        assert "age" not in form.current_values()

        form.query_one("#form-fields").scroll_home(animate=False)
        _input(app, "topic").focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.submitted == []
        summary = str(form.query_one("#form-summary").render())
        assert f"1 input needs attention: {message}" in summary
        assert app.focused is age  # the first invalid field gets the focus

        age.value = "7"
        await pilot.pause()
        assert not field.has_class("-invalid")
        assert str(form.query_one("#form-summary").render()).strip() == ""


async def test_required_and_json_messages() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        _input(app, "topic").value = "  "
        _editor(app, "sources", TextArea).load_text('{"a": 1}')
        _editor(app, "filters", TextArea).load_text("{oops")
        await pilot.pause()
        errors = form.errors()
        assert errors["topic"] == "topic is required"
        assert errors["sources"] == (
            "input 'sources' expects a list (comma-separated, or a JSON array), "
            """got '{"a": 1}' (a JSON object is not a list)"""
        )
        assert errors["filters"].startswith(
            "input 'filters' expects a JSON object, got '{oops' (not valid JSON: line 1, column 2"
        )


async def test_raw_json_round_trips_with_the_fields() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        _input(app, "age").value = "x1"  # invalid text survives the round trip as typed
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert form.raw_mode
        raw = app.query_one("#form-raw", TextArea)
        assert raw.display and not form.query_one("#form-fields").display
        assert json.loads(raw.text) == {
            "topic": "AI agents",
            "age": "x1",
            "budget": 2.5,
            "deep": True,
            "tone": "neutral",
            "sources": ["arxiv"],
        }
        assert form.errors() == {"age": "input 'age' expects a whole number, got 'x1'"}

        raw.load_text(
            json.dumps({"topic": "ships", "age": 9, "deep": False, "tone": "formal", "extra": [1]})
        )
        await pilot.pause()
        assert form.current_values()["age"] == 9
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not form.raw_mode
        assert _input(app, "topic").value == "ships"
        assert _input(app, "age").value == "9"
        assert _input(app, "budget").value == ""
        assert _editor(app, "deep", Switch).value is False
        assert app.query_one("#form-raw-toggle", Switch).value is False
        assert form.current_values() == {
            "topic": "ships",
            "age": 9,
            "deep": False,
            "tone": "formal",
            "extra": [1],
        }


async def test_raw_json_that_is_not_an_object_keeps_raw_mode() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        await pilot.press("ctrl+t")
        form.query_one("#form-raw", TextArea).load_text("[1, 2")
        await pilot.pause()
        assert RAW_KEY in form.errors()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert form.raw_mode
        assert "does not parse" in str(form.query_one("#form-summary").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.submitted == []


async def test_preset_fills_the_fields() -> None:
    presets = {"quick": {"topic": "robots", "age": 1, "tone": "playful"}}
    app = FormApp(SPECS, presets=presets, values={"topic": "remembered", "age": 5})
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        assert _input(app, "topic").value == "remembered"
        app.query_one("#form-preset", Select).value = "quick"
        await pilot.pause()
        assert form.current_values() == {
            "topic": "robots",
            "age": 1,
            "tone": "playful",
            "deep": False,
        }
        await pilot.click("#form-start")
        await pilot.pause()
    assert app.submitted == [{"topic": "robots", "age": 1, "tone": "playful", "deep": False}]


async def test_a_preset_follows_the_rules_of_the_command_line() -> None:
    """A TOML preset's values are typed values: text is read as the CLI reads it ("yes" turns a
    switch on, "Formal" selects formal, "1_000" is 1000) and a TOML date is sent as ISO text,
    in the fields and in raw JSON alike."""
    specs = [*SPECS[:6], InputSpec("due", InputType.JSON, False, None, "", (), "date")]
    preset = {
        "topic": "robots",
        "age": "1_000",
        "budget": 3,
        "deep": "yes",
        "tone": "Formal",
        "due": dt.date(2025, 1, 31),
    }
    sent = {
        "topic": "robots",
        "age": 1000,
        "budget": 3,
        "deep": True,
        "tone": "formal",
        "due": "2025-01-31",
    }
    app = FormApp(specs, presets={"p": preset})
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        app.query_one("#form-preset", Select).value = "p"
        await pilot.pause()
        assert form.current_values() == sent and form.errors() == {}
        assert type(form.current_values()["budget"]) is int
        app.query_one("#form-preset", Select).clear()
        await pilot.press("ctrl+t")
        await pilot.pause()
        app.query_one("#form-preset", Select).value = "p"  # chosen while in raw JSON
        await pilot.pause()
        assert form.raw_mode and form.current_values() == sent and form.errors() == {}
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.submitted == [sent]


async def test_without_specs_the_form_is_raw_json() -> None:
    app = FormApp([], values={"topic": "typed by hand"})
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        assert form.raw_mode
        assert app.query_one("#form-raw-toggle", Switch).disabled
        await pilot.press("ctrl+t")  # nothing to go back to
        assert form.raw_mode
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.submitted == [{"topic": "typed by hand"}]


async def test_start_button_sits_right_after_the_last_field_of_a_short_form() -> None:
    specs = SPECS[:2]
    app = FormApp(specs)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        form = app.query_one(InputForm)
        last = form.field("brief")
        start = app.query_one("#form-start")
        gap = start.region.y - (last.region.y + last.region.height)
        assert 0 <= gap <= 2, (last.region, start.region)  # not at the bottom of the column
        # still reachable with Tab from the last field
        last.editor.focus()
        await pilot.press("tab")
        assert app.focused is start


async def test_a_long_form_scrolls_its_fields_and_keeps_the_start_button_on_screen() -> None:
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 14)) as pilot:
        await pilot.pause()
        start = app.query_one("#form-start")
        assert start.region.height and start.region.y + start.region.height <= 14
        assert app.query_one("#form-fields").max_scroll_y > 0
        # an error summary takes room from the fields, not from the button
        _input(app, "age").value = "many"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#form-summary").display and app.submitted == []
        assert start.region.height and start.region.y + start.region.height <= 14


async def test_a_fit_that_comes_due_after_the_form_was_replaced_does_nothing() -> None:
    """Defect 2: `c`, then Down twice 0.1 s apart, replaced the form while its fit (queued by
    a resize for after the next refresh) was pending: NoMatches '#form-fields' killed the app."""
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        await form.remove()  # another crew's form takes its place
        form._fit_fields()  # the callback queued before the removal, now due
        await pilot.pause()
        assert not app.query(InputForm)


async def test_typed_text_that_looks_like_markup_is_shown_as_typed() -> None:
    # the soak typed '[/?nv*D' into a number field while the summary was shown: exit 70
    app = FormApp(SPECS)
    async with app.run_test(size=(120, 36)) as pilot:
        form = app.query_one(InputForm)
        age = _input(app, "age")
        age.focus()
        age.value = ""
        await pilot.press(*"abc")
        await pilot.press("ctrl+s")  # the summary shows
        await pilot.pause()
        age.value = ""
        await pilot.press(*"[/?nv*D")
        await pilot.pause()
        message = "input 'age' expects a whole number, got '[/?nv*D'"
        assert message in str(form.query_one("#form-summary").render())
        assert message in str(form.field("age").query_one(".field-error").render())
