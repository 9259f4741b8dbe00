"""The main screen's input form: which crew's form shows, built in a worker as the server
answers, and what it sends. `MainScreen` (main.py) builds on it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from crewdash.tui.messages import StartRun

if TYPE_CHECKING:
    from crewdash.tui.host import Host
    from crewdash.tui.widgets.crew_pane import CrewPane


READ_ONLY_NOTE = "Read-only: this dashboard watches runs; it cannot start, stop or answer them."


class FormArea(Vertical):
    """Where the selected crew's input form lives: loading, the form, or why it failed."""


class FormScreen(Screen[None]):
    """A screen with a FormArea; the subclass provides `crews` (the crew pane)."""

    app: Host  # type: ignore[assignment]  # narrowed to what the screen reads of its app

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.crew: str | None = None
        # the form: the crew wanted, a counter of wishes, the wish last built (load_form)
        self._form_wanted: str | None = None
        self._form_serial = 0
        self._form_built = 0
        self._form_building = False
        self._inputs_task: asyncio.Future[Any] | None = None

    @property
    def crews(self) -> CrewPane:
        raise NotImplementedError  # the subclass's crew pane

    def load_form(self, crew: str) -> None:
        """Show `crew`'s form (again: Retry, Edit & run). The newest wish wins.

        One builder at a time, never cancelled half-way: Textual's DOM changes must not be
        cancelled (a removal cancelled under Down held in the crew list ended the app's
        message loop, and the app with it). Only the wait for the server's answer is cancelled
        when the operator has moved on; the builder then builds the newest wanted form."""
        if self.app.read_only:
            self._show_read_only(crew)
            return
        self._form_wanted = crew
        self._form_serial += 1
        asking = self._inputs_task
        if asking is not None and not asking.done():
            asking.cancel()
        if not self._form_building:
            self._form_building = True
            self._build_forms()

    def _show_read_only(self, crew: str) -> None:
        """A read-only dashboard has no form: what the crew is, and why nothing starts here."""
        area = self.query_one(FormArea)
        title = f"[b]{self.app.engine.config.crews[crew].title}[/b]"
        shown = area.query("#read-only-title")
        if shown:  # mounted once (at once: a crew chosen right after finds it), then updated
            shown.first(Static).update(title)
            return
        area.mount(
            Static(title, classes="form-title", id="read-only-title"),
            Static(READ_ONLY_NOTE, classes="form-note", id="read-only-note"),
        )

    @work(group="form", name="load inputs")
    async def _build_forms(self) -> None:
        try:
            while self._form_built != self._form_serial:
                serial, crew = self._form_serial, self._form_wanted
                if crew is None:
                    return
                area = self.query_one(FormArea)
                await area.remove_children()
                title = self.app.engine.config.crews[crew].title
                await area.mount(Static(f"Loading the inputs of {title}…", classes="form-note"))
                asking = asyncio.ensure_future(self.app.engine.inputs(crew))
                self._inputs_task = asking
                await asyncio.wait({asking})
                if serial != self._form_serial:
                    continue  # the operator moved on meanwhile: build the newest instead
                error = asking.exception()
                if error is not None:  # every AOPError and anything odd: the form must come
                    await self._show_form(crew, [], problem=str(error) or type(error).__name__)
                else:
                    await self._show_form(crew, asking.result())
                self._form_built = serial
        finally:
            self._form_building = False

    async def _show_form(self, crew: str, specs: list[Any], problem: str | None = None) -> None:
        from crewdash.tui.widgets.input_form import InputForm

        area = self.query_one(FormArea)
        await area.remove_children()
        config = self.app.engine.config.crews[crew]
        widgets: list[Any] = [Static(f"New run of [b]{config.title}[/b]", classes="form-title")]
        if problem is not None:
            widgets.append(
                Static(
                    f"Could not read the inputs: {problem}\n"
                    "Retry, or type the inputs as JSON below.",
                    classes="form-problem",
                )
            )
            widgets.append(Button("Retry", id="retry-inputs", variant="warning"))
        last = self.app.last_inputs(crew)
        widgets.append(
            InputForm(
                specs,
                values=last or None,
                presets=config.presets or None,
                id="form",
                compact=True,
            )
        )
        await area.mount_all(widgets)

    @on(Button.Pressed, "#retry-inputs")
    def _retry_inputs(self) -> None:
        if self.crew is not None:
            self.load_form(self.crew)

    def on_input_form_submitted(self, event: Any) -> None:
        event.stop()
        if self.crew is not None:
            self.post_message(StartRun(self.crew, dict(event.values)))

    def action_new_run(self) -> None:
        """Focus the first field of the form (the crew list when there is no form yet)."""
        from textual.widgets import TextArea

        from crewdash.tui.widgets.input_form import InputForm

        forms = self.query(InputForm)
        if not forms:
            self.set_focus(self.crews)
            return
        form = forms.first()
        fields = [w for w in form.query("*") if w.focusable and w.display]
        typing = [w for w in fields if isinstance(w, Input | TextArea)]
        target = (typing or fields or [None])[0]
        if target is not None:
            self.set_focus(target)
