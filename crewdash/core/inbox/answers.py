"""How an answer is worded and accounted for: the text that carries a flow outcome, the
`is_approve` a `/resume` sends, who answered (for the process that lost), and the notes of a
request closed without an answer from here. See `crewdash.core.inbox.inbox`."""

from __future__ import annotations

import time

from crewdash.aop.models import RunState
from crewdash.core.audit import BROWSER
from crewdash.core.models import AnswerOutcome, DecisionRecord, KickoffPhase

ELSEWHERE_NOTE = "the run went on without an answer from this crewdash"
REPLACED_NOTE = "a newer request of the same step replaced it: it was answered elsewhere"
OBSERVER = "(observed)"  # the user of a decision row that records a request seen closed


def final_note(
    state: RunState, raw_state: str, phase: KickoffPhase | None = None
) -> tuple[AnswerOutcome, str]:
    """How a request of a run that has ended is closed."""
    if phase in (KickoffPhase.REFUSED, KickoffPhase.UNKNOWN):
        return AnswerOutcome.NOT_WAITING, f"the run's kickoff is {phase}: nothing waits"
    if state is RunState.COMPLETED:
        return (
            AnswerOutcome.ANSWERED_ELSEWHERE,
            "the run completed without an answer from this crewdash",
        )
    return AnswerOutcome.NOT_WAITING, f"the run ended ({raw_state}) while this request waited"


# Outcome names that mean "not accepted, do it again" (compared lower-case, `-`/space as `_`).
REJECTION_OUTCOMES = frozenset(
    {
        "reject",
        "rejected",
        "deny",
        "denied",
        "decline",
        "declined",
        "revise",
        "rework",
        "redo",
        "retry",
        "request_changes",
        "changes_requested",
        "needs_changes",
        "send_back",
    }
)


def is_rejection(outcome: str) -> bool:
    """Whether a flow outcome asks for the step to be done again."""
    name = outcome.strip().lower().replace("-", "_").replace(" ", "_")
    return name in REJECTION_OUTCOMES


def answer_text(feedback: str, outcome: str | None) -> str:
    """The text that carries an outcome: `<outcome>`, or `<outcome>: <feedback>`."""
    if not outcome:
        return feedback
    return f"{outcome}: {feedback}" if feedback else outcome


def resume_answer(feedback: str, approve: bool | None, outcome: str | None) -> tuple[str, bool]:
    """`(human_feedback, is_approve)` for `/resume`: see the module docstring."""
    if approve is None:
        approve = not (outcome and is_rejection(outcome))
    return answer_text(feedback, outcome), approve


SOMEONE_ELSE = "someone else answered first"


def how_answered(decision: DecisionRecord) -> str:
    """Who answered, how and when, from the audit trail: for the process that lost."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(decision.at))
    if decision.user == OBSERVER:
        return f"the request was closed at {when}: {decision.server_answer or 'answered elsewhere'}"
    if decision.outcome:
        how = f"chose {decision.outcome}"
    elif decision.approve is False:
        how = "requested changes"
    elif decision.approve is True:
        how = "approved"
    else:
        how = "answered"
    said = " ".join(decision.feedback.split())
    if said:
        how += f' ("{said[:60]}{"…" if len(said) > 60 else ""}")'
    state = " (being sent)" if decision.result is AnswerOutcome.PENDING else ""
    origin = " from a browser" if decision.origin == BROWSER else ""
    return f"{SOMEONE_ELSE}: {decision.user} {how} at {when} via {decision.channel}{origin}{state}"


class InboxError(Exception):
    """A request that cannot be answered now: unknown, or an answer already on its way."""
