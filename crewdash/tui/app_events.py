"""The app's half that follows the engine: its events go to the screens as one message per
turn of the loop, finished runs are announced, and a human-input request gets the operator's
attention (a toast, or its modal opening by itself when nothing would be lost).
`CrewdashApp` (app.py) builds on it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from textual import events
from textual.widgets import Input

from crewdash.aop.models import RunState
from crewdash.core import models
from crewdash.tui.format import short_id
from crewdash.tui.messages import EngineEvents
from crewdash.tui.request_attention import RequestAttention
from crewdash.tui.textual_compat import CrashReporting, loaded_text_area_type

if TYPE_CHECKING:
    from crewdash.core.config.model import NotifyRules
    from crewdash.core.models import Event, HumanRequest, RunRecord
    from crewdash.tui.notify import Notifier
    from crewdash.tui.run_actions import RunActions

AppResult = Literal["demo", "reload"] | None


class EngineEventsApp(CrashReporting[AppResult]):
    """Routes engine events and waiting requests; the subclass sets `engine`, `notifier`,
    `actions` and `main_screen`."""

    engine: Any  # the Engine facade, or the DeferredEngine standing for it
    notifier: Notifier
    actions: RunActions
    read_only: bool = False  # no request opens: a read-only app cannot answer

    def __init__(self) -> None:
        super().__init__()
        self.attention = RequestAttention()
        self._waiting: dict[str, HumanRequest] = {}  # requests waiting for an answer, by id
        self._event_buffer: list[Event] = []
        self._flush_scheduled = False

    @property
    def main_screen(self) -> Any:
        from crewdash.tui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _notify_rules(self, crew: str) -> NotifyRules | None:
        """The crew's `[crews.NAME.notify]` (the notifier asks per event)."""
        config = getattr(self.engine, "config", None)
        crew_config = config.crews.get(crew) if config is not None else None
        return crew_config.notify if crew_config is not None else None

    # --- engine events --------------------------------------------------------------------

    def _on_engine_event(self, event: Event) -> None:
        """Called on the event loop for every engine event, in the engine's call: it must be
        quick and cannot fail. Screens get the events as one `EngineEvents` message per turn
        of the loop; the app itself only announces (it reads no widget).

        The event classes are looked up on `crewdash.core.models` when the first event comes
        (they are built on first use, after the first frame)."""
        if not self.is_running:
            return  # leaving (Ctrl+Q with a kickoff still answering): nothing left to show
        self._event_buffer.append(event)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_events)
        if isinstance(event, models.RunChanged):
            self._announce_run(event.previous, event.run)
        elif isinstance(event, models.InboxChanged):
            self._request_changed(event.request)

    def _flush_events(self) -> None:
        self._flush_scheduled = False
        events, self._event_buffer = tuple(self._event_buffer), []
        if not events or not self.is_running:
            return
        for screen in self.screen_stack:
            screen.post_message(EngineEvents(events))

    def _announce_run(self, previous: RunRecord | None, run: RunRecord) -> None:
        if previous is None or previous.is_final:
            return
        name = f"{run.crew} {short_id(run.kickoff_id)}"
        if run.stalled and not previous.stalled and not run.is_final:
            self.notifier(  # announced only where the crew's rules ask (`on = [..."stalled"]`)
                "Run stalled",
                f"{name} shows no progress (stalled)",
                severity="warning",
                loud=True,
                crew=run.crew,
                event="stalled",
            )
        if not run.is_final:
            return
        if run.state is RunState.COMPLETED:
            self.notifier(
                "Run completed", f"{name} completed", loud=True, crew=run.crew, event="completed"
            )
        elif run.state is RunState.ERROR:
            detail = f": {run.error}" if run.error else ""
            self.notifier(
                "Run failed",
                f"{name} failed{detail}",
                severity="error",
                loud=True,
                crew=run.crew,
                event="error",
            )

    def _request_changed(self, request: HumanRequest) -> None:
        if request.answered is not None:
            self._waiting.pop(request.id, None)
            return
        self._waiting[request.id] = request
        if not self.attention.is_new(request.id):
            return
        opening = self.can_open_request() and self.attention.idle()
        self.notifier(
            "Human input needed",
            f"{request.crew} {short_id(request.kickoff_id)} asks: "
            f"{request.prompt or 'review the output'} (i to answer)",
            severity="warning",
            loud=True,
            toast=not opening,  # the modal itself says it; a toast would cover its buttons
            crew=request.crew,
            event="human_input",
        )
        if opening:
            self.call_after_refresh(self._offer_request)

    def is_typing(self) -> bool:
        """Whether the operator is typing in a form (then a request waits for `i`)."""
        focused = self.focused
        return self._text_field_focused() and focused is not None and focused.id != "filter"

    def _text_field_focused(self) -> bool:
        text_area = loaded_text_area_type()  # not imported by us: it costs start-up
        kinds = (Input, text_area) if text_area is not None else (Input,)
        return isinstance(self.focused, kinds)

    def on_key(self, event: events.Key) -> None:
        """A printable key that bubbled up to the app while a text field has the focus was
        typed before the focus moved there: the app hands each key to the focused widget as
        it arrives, so letters queued behind `n` or `/` (a paste, a fast typist) went to the
        widget the focus left, then up here. Give them to the field. (A focused field takes
        its own printable keys: they never bubble.)"""
        focused = self.focused
        if event.is_printable and focused is not None and self._text_field_focused():
            event.prevent_default()  # no binding for it: it is text now
            event.stop()
            focused.post_message(events.Key(event.key, event.character))

    def can_open_request(self) -> bool:
        """Whether a request's modal may open by itself now: the dashboard alone on screen,
        no modal being answered, nothing being typed (see `request_attention`)."""
        if self.actions.answering is not None or self.is_typing() or len(self.screen_stack) > 1:
            return False
        main = self.main_screen
        return main is not None and self.screen is main

    def _offer_request(self) -> None:
        """Open the oldest waiting request by itself if the operator would lose nothing."""
        if not self._waiting or self.read_only:
            return
        request = self.attention.next_to_open(
            self._waiting.values(), can_open=self.can_open_request()
        )
        if request is not None:
            self.actions.answer(request, by_itself=True)
