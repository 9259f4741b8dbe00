"""Answer one human-input request: read what is asked and the output to review, decide, confirm,
and see what happened (accepted, answered elsewhere, no longer waiting, failed with retry)."""

from __future__ import annotations

import time
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Markdown, Static, TextArea

from crewdash.core.duration_words import format_duration
from crewdash.core.models import AnswerOutcome, HumanRequest, InboxChanged, PauseIdentity
from crewdash.tui.bindings import ANSWER_BINDINGS, allowed
from crewdash.tui.drafts import DraftStore, drafts_for
from crewdash.tui.messages import EngineEvents
from crewdash.tui.screens.answer_words import (
    RESULT_WORDS,
    accepted_text,
    answer_buttons,
    request_title,
    waited_text,
)
from crewdash.tui.screens.confirm import ConfirmModal


class AnswerEngine(Protocol):
    """The part of the engine facade this modal uses."""

    async def answer(
        self,
        request_id: str,
        *,
        feedback: str,
        approve: bool | None = None,
        outcome: str | None = None,
        seen: PauseIdentity | None = None,
    ) -> AnswerOutcome: ...


class HumanInputModal(ModalScreen[AnswerOutcome | None]):
    """Crews: Approve / Request changes (feedback required for changes). Flows: one button
    per allowed outcome. Dismisses with the outcome once one is known, None if cancelled."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS: ClassVar[list[BindingType]] = list(ANSWER_BINDINGS)  # a copy: the type is wider

    def __init__(
        self,
        engine: AnswerEngine,
        request: HumanRequest,
        *,
        drafts: DraftStore | None = None,
        settle: float = 0.0,
    ) -> None:
        """`settle`: seconds during which keys cannot type into the feedback or answer. A modal
        that opened by itself gets a moment: a key the operator pressed just as it appeared
        was meant for something else."""
        super().__init__()
        self.engine = engine
        self.request = request
        self.settling = settle > 0
        self._settle = settle
        self._drafts = drafts  # None: the app's session store, looked up on mount
        self.outcome: AnswerOutcome | None = None
        self._answered_at: float | None = None  # when an outcome other than FAILED came
        self._in_flight = False
        self._last: tuple[str, bool | None, str | None] | None = None  # for retry
        self._waited_shown: str | None = None  # the waiting time's words on screen

    @property
    def has_outcomes(self) -> bool:
        """A flow step with named outcomes answers with one of them; anything else (a crew,
        or a flow pause whose outcomes no channel has said yet) approves or asks changes."""
        return bool(self.request.emit)

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        req = self.request
        with Vertical(id="hi-dialog"):
            yield Static(request_title(req), id="hi-title")
            yield Static("", id="hi-waited")
            yield Static(Text(req.prompt or "Review this output."), id="hi-prompt")
            review = VerticalScroll(id="hi-review")
            review.border_title = "Output to review"
            with review:
                yield Markdown(req.output or "*(no output was sent with this request)*")
            if req.context:
                yield Static(Text(req.context), id="hi-context")
            placeholder = (
                "Optional note sent with the outcome"
                if self.has_outcomes
                else "Feedback: required to request changes, optional to approve"
            )
            yield TextArea(
                id="hi-feedback",
                placeholder=placeholder,
                tooltip="What the agent should know about your decision",
            )
            yield Static("", id="hi-feedback-error")
            yield Static("", id="hi-result")
            with Horizontal(id="hi-buttons"):
                yield from answer_buttons(req.emit if self.has_outcomes else ())
                yield Button("Retry", id="hi-retry", variant="error", tooltip="Send again")
                yield Button("Close", id="hi-close", tooltip="Escape")
        yield Footer()

    @property
    def drafts(self) -> DraftStore:
        if self._drafts is None:
            self._drafts = drafts_for(self.app)
        return self._drafts

    def on_mount(self) -> None:
        draft = self.drafts.get(self.request.id)
        if draft:
            editor = self.query_one("#hi-feedback", TextArea)
            editor.load_text(draft)
            editor.move_cursor(editor.document.end)  # typing goes on after the draft
        self.query_one("#hi-retry").display = False
        self._show_result("", "")
        self._tick()
        self.set_interval(1.0, self._tick)
        # Focus where the operator acts: typed feedback or a flow's note must land in the
        # editor (Tab reaches the outcomes). The review scrolls with the mouse or Shift+Tab.
        if self.settling:
            self.query_one("#hi-review").focus()  # letters do nothing there, arrows scroll
            self.set_timer(self._settle, self._settled)
        else:
            self.query_one("#hi-feedback", TextArea).focus()

    def _settled(self) -> None:
        self.settling = False
        self.refresh_bindings()
        if self.focused is self.query_one("#hi-review"):
            self.query_one("#hi-feedback", TextArea).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Approve and Request changes are a crew's answers; a flow answers with outcomes."""
        if not allowed(self, action):
            return False  # never opens in a read-only app; if it did, it could not answer
        if action in ("approve", "request_changes"):
            # hidden once an answer is on its way or was taken: the Footer shows what works
            return not self.has_outcomes and not self._busy() and not self.settling
        return True

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else time.time()

    def on_engine_events(self, message: EngineEvents) -> None:
        """This request answered by another crewdash or operator while it is open here."""
        for event in message.events:
            if (
                isinstance(event, InboxChanged)
                and event.request.id == self.request.id
                and event.request.answered not in (None, AnswerOutcome.FAILED)
                and not self._in_flight
                and self.outcome is None
            ):
                # not through this modal: for the operator looking at it, someone else answered
                answered = event.request.answered
                if answered is AnswerOutcome.ACCEPTED:
                    answered = AnswerOutcome.ANSWERED_ELSEWHERE
                self._finish(answered)

    def _tick(self) -> None:
        if self._answered_at is not None:
            return
        text, late = waited_text(self.request, self._now())
        waited = self.query_one("#hi-waited", Static)
        if text != self._waited_shown:  # an update lays the modal out again
            self._waited_shown = text
            waited.update(text)
        waited.set_class(late, "-late")

    # -- deciding --------------------------------------------------------------------------

    def _feedback(self) -> str:
        return self.query_one("#hi-feedback", TextArea).text.strip()

    @on(TextArea.Changed, "#hi-feedback")
    def _keep_draft(self) -> None:
        # kept on every change, so no way of closing the modal loses it
        if self.outcome is None or self.outcome is AnswerOutcome.FAILED:
            self.drafts.put(self.request.id, self.query_one("#hi-feedback", TextArea).text)

    @on(Button.Pressed, "#hi-approve")
    def action_approve(self) -> None:
        if self.has_outcomes or self._busy():
            return
        feedback = self._feedback()
        question = f"Approve task {self.request.task_id or ''} of {self.request.crew}?".replace(
            "  ", " "
        )
        self._confirm(question, "Approve", (feedback, True, None))

    @on(Button.Pressed, "#hi-changes")
    def action_request_changes(self) -> None:
        if self._busy():
            return
        feedback = self._feedback()
        error = self.query_one("#hi-feedback-error", Static)
        if not feedback:
            error.update("Feedback is required to request changes: say what should change.")
            self.query_one("#hi-feedback", TextArea).focus()
            return
        error.update("")
        self._confirm(
            "Send your feedback and run the task again?", "Request changes", (feedback, False, None)
        )

    @on(Button.Pressed, ".answer")
    def _outcome_pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if not button_id.startswith("hi-outcome-") or self._busy():
            return
        outcome = self.request.emit[int(button_id.removeprefix("hi-outcome-"))]
        self._confirm(
            f"Answer {self.request.crew} with {outcome!r}?",
            outcome,
            (self._feedback(), None, outcome),
        )

    @on(Button.Pressed, "#hi-retry")
    def _retry(self) -> None:
        if self._last is not None and not self._busy():
            self._send(*self._last)

    @on(Button.Pressed, "#hi-close")
    def action_close(self) -> None:
        if self._in_flight:
            self.notify("Sending your answer… it is saved and will finish on its own.")
        elif self.request.id in self.drafts:
            self.notify("Your feedback is kept as a draft; open the request again to send it.")
        self.dismiss(self.outcome)

    def _busy(self) -> bool:
        return self._in_flight or (
            self.outcome is not None and self.outcome is not AnswerOutcome.FAILED
        )

    def _confirm(
        self, question: str, label: str, answer: tuple[str, bool | None, str | None]
    ) -> None:
        feedback = answer[0]
        detail = f"Feedback: {feedback}" if feedback else "No feedback."

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._send(*answer)

        self.app.push_screen(ConfirmModal(question, confirm_label=label, detail=detail), confirmed)

    # -- sending ---------------------------------------------------------------------------

    def _send(self, feedback: str, approve: bool | None, outcome: str | None) -> None:
        if self._busy():
            return  # never twice, nor after the request was answered while confirming
        self._in_flight = True
        self._last = (feedback, approve, outcome)
        self._set_buttons(enabled=False)
        self.query_one("#hi-retry").display = False
        self._show_result("Sending…", "")
        self._deliver(feedback, approve, outcome)

    @work(exclusive=True, group="answer", name="send answer")
    async def _deliver(self, feedback: str, approve: bool | None, outcome: str | None) -> None:
        reason = ""
        try:
            result = await self.engine.answer(
                self.request.id,
                feedback=feedback,
                approve=approve,
                outcome=outcome,
                seen=self.request.identity,  # only the pause shown here is answered
            )
        except Exception as exc:  # shown to the operator, who can retry; never lost silently
            result, reason = AnswerOutcome.FAILED, str(exc) or type(exc).__name__
        self._in_flight = False
        self._finish(result, reason)

    def _finish(self, result: AnswerOutcome, reason: str = "") -> None:
        self.outcome = result
        if result is AnswerOutcome.FAILED or result is AnswerOutcome.PENDING:
            self.outcome = AnswerOutcome.FAILED
            why = f" ({reason})" if reason else ""
            self._show_result(
                f"✗ Sending failed{why}. Your answer is saved; Retry sends it again.", "-failed"
            )
            self.query_one("#hi-retry").display = True
            self._set_buttons(enabled=True)
            self.query_one("#hi-retry", Button).focus()
            return
        self.drafts.discard(self.request.id)  # answered here or elsewhere: nothing left to send
        self._answered_at = self._now()
        waited = format_duration(max(0.0, self._answered_at - self.request.received_at))
        self.query_one("#hi-waited", Static).update(f"Answered after {waited}")
        self.query_one("#hi-waited", Static).set_class(False, "-late")
        if result is AnswerOutcome.ACCEPTED:
            _, approve, outcome = self._last or ("", True, None)
            words, css = accepted_text(approve, outcome), "-accepted"
        else:
            words, css = RESULT_WORDS[result]
        self._show_result(words, css)
        self.refresh_bindings()
        self.query_one("#hi-feedback", TextArea).disabled = True
        self.query_one("#hi-close", Button).focus()

    def _set_buttons(self, *, enabled: bool) -> None:
        for button in self.query(".answer").results(Button):
            button.disabled = not enabled
        self.refresh_bindings()

    def _show_result(self, text: str, css: str) -> None:
        result = self.query_one("#hi-result", Static)
        result.update(text)
        result.set_classes(css)
        result.styles.display = "block" if text else "none"


__all__ = ["AnswerEngine", "HumanInputModal", "waited_text"]  # tests read waited_text
