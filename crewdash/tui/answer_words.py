"""What the human-input modal says: its heading, how long a request has waited, and what an
answer's outcome means for the run. Pure functions, so tests check the words without a screen."""

from __future__ import annotations

from rich.text import Text

from crewdash.core.models import AnswerOutcome, HumanRequest
from crewdash.tui.format import format_duration, short_id

RESULT_WORDS: dict[AnswerOutcome, tuple[str, str]] = {
    AnswerOutcome.ANSWERED_ELSEWHERE: (
        "⚠ Someone else answered this request first; your answer was not used.",
        "-elsewhere",
    ),
    AnswerOutcome.NOT_WAITING: (
        "⚠ The run is no longer waiting for input; nothing was changed.",
        "-not_waiting",
    ),
    AnswerOutcome.SUPERSEDED: (
        "⚠ The run waits on other output now (a new round); your answer was not sent. "
        "Close this to read the new one.",
        "-not_waiting",
    ),
}


def accepted_text(approve: bool | None, outcome: str | None) -> str:
    """What happens now that the answer was taken, in the operator's words."""
    if outcome:
        return f"✓ Sent {outcome}: the flow continues."
    if approve is False:
        return "✓ Sent: the task runs again with your feedback, then asks again."
    return "✓ Approved: the run continues."


def waited_text(request: HumanRequest, now: float) -> tuple[str, bool]:
    """'Waiting 3m 05s · SLA 30 min, 26m 55s left' and whether the SLA is exceeded."""
    waited = max(0.0, now - request.received_at)
    text = f"Waiting {format_duration(waited)}"
    late = False
    if request.sla_minutes:
        left = request.sla_minutes * 60 - waited
        sla = f"SLA {request.sla_minutes:g} min"
        if left >= 0:
            text += f"  ·  {sla}, {format_duration(left)} left"
        else:
            late = True
            text += f"  ·  {sla} exceeded by {format_duration(-left)}"
    if request.assigned_to:
        text += f"  ·  assigned to {request.assigned_to}"
    return text, late


def heading(request: HumanRequest) -> Text:
    """'Human input · Research (crew) · run 1a2b3c4d · task write · attempt 2'."""
    where = f"run {short_id(request.kickoff_id)}"
    if request.task_id:
        where += f"  ·  task {request.task_id}"
    if request.attempt > 1:  # the store reads old `#N` ids as their attempt
        where += f"  ·  attempt {request.attempt}"
    kind = "flow" if request.is_flow else "crew"
    return Text.assemble(
        ("Human input  ·  ", "bold"), (request.crew, "bold"), f" ({kind})  ·  {where}"
    )


def feedback_placeholder(has_outcomes: bool) -> str:
    """A flow's note is optional; a crew's feedback is what a request for changes says."""
    if has_outcomes:
        return "Optional note sent with the outcome"
    return "Feedback: required to request changes, optional to approve"
