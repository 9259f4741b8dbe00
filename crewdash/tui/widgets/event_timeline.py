"""A run's event stream as a list: one line per step, tool call, task end or run end kept from
its webhooks (crewdash.core.runs.run_events), newest last, following new ones as they come
while the last line is selected. Above it, one line saying what the list can show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crewdash.core.runs.run_events import KEEP_PER_RUN, EventKind, RunEvent
from crewdash.tui.format import format_clock, theme_colors

#: icon, word and theme colour of each kind (single-cell glyphs: they line up everywhere)
KIND_LOOKS: dict[EventKind, tuple[str, str, str]] = {
    EventKind.STEP: ("•", "step", "foreground-muted"),
    EventKind.TOOL: ("⚙", "tool", "primary"),
    EventKind.TASK: ("✓", "task", "success"),
    EventKind.CREW: ("■", "run", "accent"),
    EventKind.UNKNOWN: ("?", "event", "warning"),
}

ONLY_POLLING = (
    "Only polling: start the webhook receiver ([receiver] enabled = true, see README) "
    "to see steps and tool calls live."
)
STARTED_WITHOUT_HOOKS = (
    "This run was started without webhooks (the receiver was off): only polling follows it."
)
WAITING = "No events yet: steps, tool calls and task ends appear here as their webhooks arrive."
NONE_ARRIVED = "No step or task webhook arrived for this run."


def timeline_note(
    events: int, *, receiver_on: bool, run_has_hooks: bool, final: bool = False
) -> str:
    """The line over the list: empty when there are events to show, else why there are none."""
    if events:
        return ""
    if run_has_hooks:
        return NONE_ARRIVED if final else WAITING
    return STARTED_WITHOUT_HOOKS if receiver_on else ONLY_POLLING


def merge_events(
    shown: Sequence[RunEvent], fresh: Sequence[RunEvent], keep: int = KEEP_PER_RUN
) -> list[RunEvent]:
    """The list shown plus the events that arrived since, as the store keeps them: the
    newest `keep` by arrival, in the order they happened."""
    if not fresh:
        return list(shown)
    newest = sorted([*shown, *fresh], key=lambda e: e.id)[-keep:]
    return sorted(newest, key=lambda e: (e.at, e.id))


def event_line(event: RunEvent, colors: Mapping[str, str], now: float | None = None) -> Text:
    """`11:20:03  ⚙ tool   search_web({"query": "…"}) (Researcher)`."""
    icon, word, color = KIND_LOOKS.get(event.kind, KIND_LOOKS[EventKind.UNKNOWN])
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{format_clock(event.at, now=now):<8}  ", style=colors["foreground-muted"])
    line.append(f"{icon} {word:<6}", style=colors.get(color, ""))
    line.append(event.summary)
    return line


class EventTimeline(Vertical):
    """See the module docstring. `show(events, note)`; `selected` is the highlighted event."""

    DEFAULT_CSS = """
    EventTimeline { height: 1fr; }
    EventTimeline > #events-note { height: auto; color: $text-muted; padding: 0 1; }
    EventTimeline > OptionList {
        height: 1fr; border: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._events: list[RunEvent] = []
        self._now: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="events-note", markup=False)
        yield OptionList(id="events-list")

    @property
    def events(self) -> tuple[RunEvent, ...]:
        return tuple(self._events)

    @property
    def selected(self) -> RunEvent | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self._events):
            return None
        return self._events[index]

    def show(self, events: Sequence[RunEvent], note: str, *, now: float | None = None) -> None:
        """Show `events` (in order); lines already shown stay, new ones are appended when they
        come after them. With the last line selected (or none), the newest is selected."""
        self._now = now
        note_widget = self.query_one("#events-note", Static)
        note_widget.update(note)
        note_widget.display = bool(note)
        listing = self.query_one(OptionList)
        listing.display = bool(events)
        old_ids = [e.id for e in self._events]
        new_ids = [e.id for e in events]
        if new_ids == old_ids:
            return
        index = listing.highlighted
        following = index is None or index >= len(self._events) - 1
        kept = self.selected
        colors = theme_colors(self.app)
        if new_ids[: len(old_ids)] == old_ids:
            fresh = events[len(old_ids) :]
        else:  # an older event came late, or some were trimmed: lay the list out again
            listing.clear_options()
            fresh = events
        listing.add_options([Option(event_line(e, colors, now)) for e in fresh])
        self._events = list(events)
        if following:
            listing.highlighted = len(self._events) - 1
        elif kept is not None and kept.id in new_ids:
            listing.highlighted = new_ids.index(kept.id)
