"""The values core/ hands to the TUI and the CLI: runs as the store knows them, human-input
requests, crew health, and the events the engine publishes. No Textual, no I/O.

The enums are defined in `crewdash.core.enums`; the records (`RunRecord`, `StateChange`,
`HumanRequest`, `Decision`, `DecisionRecord`) and the events (`RunChanged`,
`CrewHealthChanged`, `InboxChanged`, `Event`) in `crewdash.core.records`, imported from here on
first use (PEP 562): the dashboard's first frame needs only the enums, and building the frozen
dataclasses costs start-up ~11 ms (measured, min of 15 runs). Neither module imports this one,
so there is no import loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crewdash.aop.lazy import lazy_exports
from crewdash.core.enums import AnswerOutcome as AnswerOutcome
from crewdash.core.enums import CrewHealth as CrewHealth
from crewdash.core.enums import KickoffPhase as KickoffPhase
from crewdash.core.enums import RequestSource as RequestSource

if TYPE_CHECKING:
    from crewdash.core.records import CrewHealthChanged as CrewHealthChanged
    from crewdash.core.records import Decision as Decision
    from crewdash.core.records import DecisionRecord as DecisionRecord
    from crewdash.core.records import Event as Event
    from crewdash.core.records import HumanRequest as HumanRequest
    from crewdash.core.records import InboxChanged as InboxChanged
    from crewdash.core.records import PauseIdentity as PauseIdentity
    from crewdash.core.records import RunChanged as RunChanged
    from crewdash.core.records import RunEventsAdded as RunEventsAdded
    from crewdash.core.records import RunRecord as RunRecord
    from crewdash.core.records import StateChange as StateChange
    from crewdash.core.records import output_digest as output_digest

#: the names defined in `crewdash.core.records`, imported from there on first use
_RECORDS = frozenset(
    (
        "CrewHealthChanged",
        "Decision",
        "DecisionRecord",
        "Event",
        "HumanRequest",
        "InboxChanged",
        "PauseIdentity",
        "RunChanged",
        "RunEventsAdded",
        "RunRecord",
        "StateChange",
        "output_digest",
    )
)


__getattr__, __dir__ = lazy_exports(__name__, _RECORDS, "crewdash.core.records")
