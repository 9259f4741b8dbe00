"""The enums of core's values: a kickoff's phase, a request's channel, an answer's outcome, a
crew's health. Re-exported by `crewdash.core.models`; a module of its own so that
`crewdash.core.records` builds on it without importing the models that re-export the records."""

from __future__ import annotations

from enum import StrEnum


class KickoffPhase(StrEnum):
    """Where a kickoff is in the intent → POST → id protocol (docs/design.md#kickoff-protocol)."""

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
