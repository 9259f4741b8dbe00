"""The kickoff form, generated from a crew's input specs: one field per input, a raw-JSON mode
for power users, named presets, validation as you type and before sending."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Label, Select, Static, Switch, TextArea

from crewdash.aop.models import InputSpec
from crewdash.core.inputs import preset_values
from crewdash.tui.bindings import FORM_BINDINGS
from crewdash.tui.widgets.fields import MISSING, FieldError, InputField, field_dom_id
from crewdash.tui.widgets.raw_json import (
    RAW_KEY,
    errors_summary,
    parse_raw_json,
    typed_from_mapping,
)


class InputForm(Vertical):
    """Fields for `specs`, prefilled from `values` (else each input's default)."""

    DEFAULT_CSS = """
    InputForm { height: 1fr; }
    InputForm > .form-toolbar { height: auto; }
    InputForm > .form-toolbar > #form-preset { width: 1fr; }
    InputForm > .form-fields { height: auto; padding: 0 1 0 0; }
    InputForm > #form-raw { height: 1fr; }
    InputForm > .form-summary { color: $text-error; height: auto; display: none; }
    InputForm > .form-summary.-shown { display: block; }
    InputForm > .form-actions { height: auto; align-vertical: middle; }
    InputForm > .form-actions > .form-gap { width: 1fr; height: 1; }
    InputForm > .form-actions > .form-raw-label { width: auto; padding: 0 1 0 0; }
    InputForm > .form-actions > Switch { border: none; padding: 0; height: 1; }
    InputForm > .form-actions > Switch:focus { border: none; background-tint: $foreground 10%; }
    InputForm > .form-actions > Switch .switch--slider {
        color: $foreground-muted; background: $panel-lighten-2;
    }
    InputForm > .form-actions > Switch.-on .switch--slider { color: $success; }
    InputForm .hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = list(FORM_BINDINGS)  # keys: bindings.py

    class Submitted(Message):
        """Valid, typed values the operator asked to start a run with."""

        def __init__(self, form: InputForm, values: dict[str, Any]) -> None:
            super().__init__()
            self.form = form
            self.values = values

        @property
        def control(self) -> InputForm:
            return self.form

    def __init__(
        self,
        specs: list[InputSpec],
        *,
        values: dict[str, Any] | None = None,
        presets: dict[str, dict[str, Any]] | None = None,
        id: str | None = None,
        compact: bool = False,
    ) -> None:
        super().__init__(id=id, classes="input-form")
        self.compact = compact  # one-line editors and button (a narrow column)
        self.specs = list(specs)
        self.presets = dict(presets or {})
        initial = dict(values or {})
        names = {s.name for s in self.specs}
        # Keys that are not inputs of this crew (typed in raw mode, or remembered): kept and sent.
        self._extra: dict[str, Any] = {k: v for k, v in initial.items() if k not in names}
        self._fields = {
            spec.name: InputField(
                spec,
                initial.get(spec.name, MISSING),
                id=field_dom_id(i, spec.name),
                compact=compact,
            )
            for i, spec in enumerate(self.specs)
        }
        # Without specs (the /inputs call failed) the only way to type inputs is raw JSON.
        self._raw_mode = not self.specs
        self._fields_room = -1  # rows the fields may take; set by _fit_fields
        self._initial_raw = json.dumps(initial, indent=2, ensure_ascii=False) if initial else "{}"

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.presets:
            with Horizontal(classes="form-toolbar"):
                yield Select(
                    [(name, name) for name in self.presets],
                    prompt="Preset…",
                    id="form-preset",
                    tooltip="Fill the form from a named preset",
                    compact=True,
                )
        with VerticalScroll(classes="form-fields", id="form-fields"):
            if not self.specs:
                yield Static("This crew's inputs are unknown: type them as JSON.", classes="hint")
            yield from self._fields.values()
            if self._extra:
                yield Static("", id="form-extra", classes="hint")
        yield TextArea(
            self._initial_raw if not self.specs else "",
            id="form-raw",
            tab_behavior="indent",
            placeholder='{"name": "value"}',
            tooltip="All inputs as one JSON object",
        )
        yield Static("", id="form-summary", classes="form-summary")
        # Start first: Tab from the last field reaches it; the rarely used raw switch after it.
        with Horizontal(classes="form-actions"):
            yield Button(
                "Start run ^s",
                id="form-start",
                variant="primary",
                tooltip="Check the inputs and start a run (Ctrl+S)",
                compact=self.compact,
            )
            yield Static(classes="form-gap")
            yield Label("Raw JSON ^t", classes="form-raw-label")
            yield Switch(
                value=self._raw_mode,
                id="form-raw-toggle",
                disabled=not self.specs,
                tooltip="Edit every input as one JSON object (Ctrl+T)",
            )

    def on_mount(self) -> None:
        self._show_mode()
        self._show_extra()

    def _show_mode(self) -> None:
        self.query_one("#form-fields").display = not self._raw_mode
        self.query_one("#form-raw", TextArea).display = self._raw_mode
        self.set_class(self._raw_mode, "-raw")

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_fields)

    def _fit_fields(self) -> None:
        """Cap the fields at the room the other parts leave: a short form has Start run right
        under its last field, a long one scrolls its fields above a Start run still on screen
        (CSS has no "auto height, at most the rest").

        Runs after a refresh: by then the form may be gone (the operator moved to another
        crew, whose form replaced this one), and there is nothing to fit."""
        found = self.query("#form-fields") if self.is_attached else None
        if not found:
            return
        fields = found.first()
        others = sum(
            child.outer_size.height + child.styles.margin.height
            for child in self.children
            if child is not fields and child.display
        )
        room = max(3, self.content_size.height - others - fields.styles.margin.height)
        if room != self._fields_room:  # setting a style relayouts: only on a change
            self._fields_room = room
            fields.styles.max_height = room

    def _show_extra(self) -> None:
        if not self.specs:
            return
        extra = self.query("#form-extra")
        if extra:
            names = ", ".join(sorted(self._extra))
            text = f"Also sent (not inputs of this crew): {names}" if self._extra else ""
            extra.first(Static).update(text)

    # -- public API ------------------------------------------------------------------------

    @property
    def raw_mode(self) -> bool:
        return self._raw_mode

    def field(self, name: str) -> InputField:
        return self._fields[name]

    def current_values(self) -> dict[str, Any]:
        """The typed values that are valid now (invalid and empty optional ones left out)."""
        if self._raw_mode:
            try:
                parsed = self._parse_raw()
            except FieldError:
                return {}
            values, _ = typed_from_mapping(self.specs, parsed)
            return values
        values = dict(self._extra)
        for name, field in self._fields.items():
            try:
                value = field.value()
            except FieldError:
                continue
            if value is not MISSING:
                values[name] = value
        return values

    def errors(self) -> dict[str, str]:
        """Input name → message, for every input that cannot be sent as it is."""
        if self._raw_mode:
            try:
                parsed = self._parse_raw()
            except FieldError as exc:
                return {RAW_KEY: str(exc)}
            _, errors = typed_from_mapping(self.specs, parsed)
            return errors
        return {name: msg for name, f in self._fields.items() if (msg := f.error()) is not None}

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the form from `values` (a preset, remembered inputs); absent inputs are cleared."""
        names = set(self._fields)
        self._extra = {k: v for k, v in values.items() if k not in names}
        for name, field in self._fields.items():
            field.set_value(values.get(name, MISSING))
        if self._raw_mode:
            self._raw_area.load_text(json.dumps(values, indent=2, ensure_ascii=False))
        self._show_extra()
        self._update_summary(only_if_shown=True)

    def set_raw_mode(self, raw: bool) -> bool:
        """Switch modes carrying the values across; False if the raw JSON is not an object."""
        if raw == self._raw_mode or (not raw and not self.specs):
            return raw == self._raw_mode
        if raw:
            text = json.dumps(self._lenient_values(), indent=2, ensure_ascii=False)
            self._raw_area.load_text(text)
        else:
            try:
                parsed = self._parse_raw()
            except FieldError as exc:
                self._show_summary(str(exc))
                self._sync_toggle()
                return False
            self.set_values(parsed)
        self._raw_mode = raw
        self._sync_toggle()
        self._show_mode()
        self._update_summary(only_if_shown=True)
        if raw:
            self._raw_area.focus()
        else:
            self._focus_first_field()
        return True

    # -- actions ---------------------------------------------------------------------------

    def action_submit(self) -> None:
        errors = self.errors()
        if not self._raw_mode:
            for field in self._fields.values():
                field.validate_now()
        if errors:
            self._show_summary(errors_summary(errors))
            if self._raw_mode:
                self._raw_area.focus()
            else:
                first = next(n for n in self._fields if n in errors)
                self._fields[first].focus_editor()
                self._fields[first].scroll_visible()
            return
        self._show_summary("")
        self.post_message(self.Submitted(self, self.current_values()))

    def action_toggle_raw(self) -> None:
        self.set_raw_mode(not self._raw_mode)

    # -- events ----------------------------------------------------------------------------

    @on(Button.Pressed, "#form-start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    @on(Switch.Changed, "#form-raw-toggle")
    def _raw_toggled(self, event: Switch.Changed) -> None:
        event.stop()
        if event.value != self._raw_mode:
            self.set_raw_mode(event.value)

    @on(Select.Changed, "#form-preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and event.value in self.presets:
            self.set_values(preset_values(self.presets[str(event.value)]))

    @on(InputField.Changed)
    def _field_changed(self, event: InputField.Changed) -> None:
        event.stop()
        self._update_summary(only_if_shown=True)

    @on(TextArea.Changed, "#form-raw")
    def _raw_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._update_summary(only_if_shown=True, raw_live=True)

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _raw_area(self) -> TextArea:
        return self.query_one("#form-raw", TextArea)

    def _focus_first_field(self) -> None:
        if self._fields:
            next(iter(self._fields.values())).focus_editor()

    def _sync_toggle(self) -> None:
        toggle = self.query_one("#form-raw-toggle", Switch)
        with toggle.prevent(Switch.Changed):
            toggle.value = self._raw_mode

    def _parse_raw(self) -> dict[str, Any]:
        return parse_raw_json(self._raw_area.text)

    def _lenient_values(self) -> dict[str, Any]:
        """Everything typed, typed where it parses and as text where it does not."""
        values = dict(self._extra)
        for name, field in self._fields.items():
            try:
                value = field.value()
            except FieldError:
                value = field.raw()
                if value in ("", None):
                    continue
            if value is not MISSING:
                values[name] = value
        return values

    def _show_summary(self, text: str) -> None:
        summary = self.query_one("#form-summary", Static)
        summary.update(Content(text))  # the errors quote typed text: never read it as markup
        summary.set_class(bool(text), "-shown")
        self.call_after_refresh(self._fit_fields)  # the summary takes room from the fields

    def _update_summary(self, *, only_if_shown: bool, raw_live: bool = False) -> None:
        """Keep an already shown summary in step with the values as the operator fixes them."""
        summary = self.query_one("#form-summary", Static)
        if only_if_shown and not summary.has_class("-shown") and not raw_live:
            return
        errors = self.errors()
        if raw_live and not summary.has_class("-shown"):
            # While typing raw JSON, say only when it does not parse; the rest waits for Ctrl+S.
            errors = {k: v for k, v in errors.items() if k == RAW_KEY}
        self._show_summary(errors_summary(errors) if errors else "")
