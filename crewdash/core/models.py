"""The values core/ hands to the TUI and the CLI: runs as the store knows them, human-input
requests, crew health, and the events the engine publishes. No Textual, no I/O.

The records (`RunRecord`, `StateChange`, `HumanRequest`, `Decision`, `DecisionRecord`) and the
events (`RunChanged`, `CrewHealthChanged`, `InboxChanged`, `Event`) are defined in
`crewdash.core.records` and imported from here on first use (PEP 562): the dashboard's first
frame needs only the enums, and building the frozen dataclasses costs start-up ~4 ms."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from crewdash.aop.lazy import lazy_exports

if TYPE_CHECKING:
    from crewdash.core.records import CrewHealthChanged as CrewHealthChanged
    from crewdash.core.records import Decision as Decision
    from crewdash.core.records import DecisionRecord as DecisionRecord
    from crewdash.core.records import Event as Event
    from crewdash.core.records import HumanRequest as HumanRequest
    from crewdash.core.records import InboxChanged as InboxChanged
    from crewdash.core.records import PauseIdentity as PauseIdentity
    from crewdash.core.records import RunChanged as RunChanged
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
        "RunRecord",
        "StateChange",
        "output_digest",
    )
)


class KickoffPhase(StrEnum):
    """Where a kickoff is in the intent → POST → id protocol (DESIGN.md, data flow 3)."""

    INTENT = "intent"  # row written, POST not (yet) sent
    ACCEPTED = "accepted"  # the server answered with a kickoff id
    REFUSED = "refused"  # the server answered with an error: no run exists
    UNKNOWN = "unknown"  # the POST may have reached the server but the answer was lost


class RequestSource(StrEnum):
    STATUS = "status"  # seen as a pause while polling
    CREW_WEBHOOK = "crew_webhook"  # humanInputWebhook / taskWebhookUrl delivery
    FLOW_WEBHOOK = "flow_webhook"  # signed flow HITL delivery with callback_url


class AnswerOutcome(StrEnum):
    PENDING = "pending"  # audit row written, not sent yet
    ACCEPTED = "accepted"
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # 409
    NOT_WAITING = "not_waiting"  # 400: the run is no longer paused
    FAILED = "failed"  # network/server error: may be retried
    # Not sent: the run is no longer in the pause the operator saw (another round, another
    # output); `Engine.superseded_by(request_id)` is the request that waits now.
    SUPERSEDED = "superseded"


class CrewHealth(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    SLOW = "slow"
    OFFLINE = "offline"
    TOKEN_REJECTED = "token_rejected"


__getattr__, __dir__ = lazy_exports(__name__, _RECORDS, "crewdash.core.records")
