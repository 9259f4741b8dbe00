"""The messages the app and its screens exchange: they talk through these, never by calling
each other.

- `EngineEvents`: the app → every screen on the stack. The engine's events, batched per turn of
  the event loop (a burst of status changes costs one message per screen, not one per run).
- The requests below: a screen → the app (they bubble up from the screen that posts them).
  The app carries them out through `crewdash.tui.run_actions`, the one place where a run is
  started, stopped, polled or answered, so every screen behaves the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from crewdash.core.records import Event


class EngineEvents(Message, bubble=False):
    """Engine events, in the order they were published. Each is on disk already."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events


class StartRun(Message):
    """Start `crew` with `inputs` (the form's Start, Run again)."""

    def __init__(self, crew: str, inputs: Mapping[str, Any]) -> None:
        super().__init__()
        self.crew = crew
        self.inputs = dict(inputs)


class StopRun(Message):
    """Stop run `local_id`; the operator is asked first."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class PollRun(Message):
    """Ask the server for run `local_id`'s status now."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class ResolveRun(Message):
    """Resolve run `local_id`, whose kickoff's fate is unknown: adopt, send again, dismiss."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class OpenRun(Message):
    """Open the detail screen of run `local_id`."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class EditRun(Message):
    """Open `crew`'s form filled with `inputs` (Edit & run)."""

    def __init__(self, crew: str, inputs: Mapping[str, Any]) -> None:
        super().__init__()
        self.crew = crew
        self.inputs = dict(inputs)


class AnswerRequest(Message):
    """Open the answer modal for one request.

    `request_id` names it; else the request of run `local_id` (None: that run waits for
    nothing, and the operator is told so); else, with neither, the oldest waiting request."""

    def __init__(self, request_id: str | None = None, *, local_id: str | None = None) -> None:
        super().__init__()
        self.request_id = request_id
        self.local_id = local_id


class OpenInbox(Message):
    """Open the list of every waiting request."""


class OpenCrewTrends(Message):
    """Open the trends screen of `crew`."""

    def __init__(self, crew: str) -> None:
        super().__init__()
        self.crew = crew


class ShowRun(Message, bubble=False):
    """The app → the main screen: select run `local_id` (a run just started)."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class Prefill(Message, bubble=False):
    """The app → the main screen: show `crew`'s form filled with `inputs` and focus it."""

    def __init__(self, crew: str, inputs: Mapping[str, Any]) -> None:
        super().__init__()
        self.crew = crew
        self.inputs = dict(inputs)


class EngineReady(Message, bubble=False):
    """The app → the main screen: the engine runs; show what it already knows."""


class MarkRun(Message):
    """Mark run `local_id` as the base of a diff (`m`); the marked run again unmarks it."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class DiffRuns(Message):
    """Compare run `local_id` with the marked run (`d`); the operator is told when no run
    is marked, or when it is the marked run itself."""

    def __init__(self, local_id: str) -> None:
        super().__init__()
        self.local_id = local_id


class RunMarked(Message, bubble=False):
    """The app → the main screen: the run marked for a diff is now `local_id` (None: none)."""

    def __init__(self, local_id: str | None) -> None:
        super().__init__()
        self.local_id = local_id
