"""One event of a run's stream as it was received (redacted): its JSON, pretty, scrollable.
`v` on the run detail's Events tab opens it; Escape (or `v` again) closes it."""

from __future__ import annotations

import json

from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from crewdash.core.runs.run_events import RunEvent
from crewdash.tui.format import format_clock
from crewdash.tui.widgets.event_timeline import KIND_LOOKS


def pretty(raw: str) -> JSON | Text:
    """The raw JSON indented and coloured; text that does not parse, as it is."""
    try:
        json.loads(raw)
    except ValueError:
        return Text(raw)
    rendered = JSON(raw, indent=2)
    rendered.text.no_wrap = False  # a long output wraps: the panel scrolls down, not across
    rendered.text.overflow = "fold"
    return rendered


class RawEventModal(ModalScreen[None]):
    """See the module docstring."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding("escape,v", "close", "Close", id="raw_event_close", tooltip="Back to the events"),
    ]

    def __init__(self, event: RunEvent, *, now: float | None = None) -> None:
        super().__init__()
        self.event = event
        self.now = now

    def compose(self) -> ComposeResult:
        event = self.event
        icon, word, _ = KIND_LOOKS[event.kind]
        title = f"{icon} {word} at {format_clock(event.at, now=self.now)}: {event.summary}"
        with Vertical(id="raw-event-dialog"):
            yield Static(Text(title, no_wrap=True, overflow="ellipsis"), classes="dialog-title")
            with VerticalScroll(id="raw-event-body"):
                yield Static(pretty(event.raw), id="raw-event-json")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#raw-event-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
