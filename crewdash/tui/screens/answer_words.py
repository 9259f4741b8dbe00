"""What the human-input modal says: its title, how long the request waited, its answer
buttons, and what each answer's outcome means (screens/human_input.py puts them on screen)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Button

from crewdash.core.duration_words import format_duration
from crewdash.core.models import AnswerOutcome, HumanRequest
from crewdash.tui.format import short_id

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


def request_title(req: HumanRequest) -> Text:
    """The modal's title: who asks, for which run, task and attempt."""
    where = f"run {short_id(req.kickoff_id)}"
    if req.task_id:
        where += f"  ·  task {req.task_id}"
    if req.attempt > 1:  # the store reads old `#N` ids as their attempt
        where += f"  ·  attempt {req.attempt}"
    kind = "flow" if req.is_flow else "crew"
    return Text.assemble(("Human input  ·  ", "bold"), (req.crew, "bold"), f" ({kind})  ·  {where}")


def answer_buttons(outcomes: Sequence[str]) -> list[Button]:
    """One button per named outcome (a flow step), else Approve and Request changes."""
    if outcomes:
        return [
            Button(
                outcome,
                id=f"hi-outcome-{i}",
                classes="answer",
                variant="primary" if i == 0 else "default",
                tooltip=f"Answer with the outcome {outcome!r} (asks first)",
            )
            for i, outcome in enumerate(outcomes)
        ]
    return [
        Button(
            "Approve",
            id="hi-approve",
            classes="answer",
            variant="success",
            tooltip="Approve the output; the run continues (Ctrl+S)",
        ),
        Button(
            "Request changes",
            id="hi-changes",
            classes="answer",
            variant="warning",
            tooltip="Send the feedback; the task runs again and asks again",
        ),
    ]
