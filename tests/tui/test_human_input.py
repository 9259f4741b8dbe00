"""The human-input modal and the inbox against a fake engine: confirm, send once, outcomes."""

from __future__ import annotations

from screens_fixtures import NOW, FakeEngine, ScreenApp, crew_request, flow_request
from textual.widgets import Button, DataTable, Static, TextArea

from crewdash.aop.errors import ConnectionFailedError
from crewdash.core.models import AnswerOutcome, InboxChanged
from crewdash.tui.screens.answer_words import waited_text
from crewdash.tui.screens.confirm import ConfirmModal
from crewdash.tui.screens.human_input import HumanInputModal
from crewdash.tui.screens.inbox import InboxScreen


def _modal_app(engine: FakeEngine, request=None) -> ScreenApp:  # type: ignore[no-untyped-def]
    return ScreenApp(lambda: HumanInputModal(engine, request or crew_request()))


def _result(app: ScreenApp) -> str:
    return str(app.screen.query_one("#hi-result", Static).render())


def test_waited_text_counts_down_the_sla() -> None:
    request = crew_request()
    assert waited_text(request, NOW) == ("Waiting 3m 05s  ·  SLA 30 min, 26m 55s left", False)
    text, late = waited_text(request, NOW + 1800)
    assert late and text.endswith("SLA 30 min exceeded by 3m 05s")


async def test_approve_asks_then_sends_once_and_shows_accepted() -> None:
    engine = FakeEngine()
    app = _modal_app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        app.screen.query_one("#hi-feedback", TextArea).load_text("Looks good")
        await pilot.click("#hi-approve")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert engine.answers == []  # nothing is sent before the confirmation
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "✓ Approved: the run continues" in _result(app)
        assert all(b.disabled for b in app.screen.query(".answer").results(Button))
        await pilot.click("#hi-approve")  # disabled: a second answer is impossible
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await pilot.pause()
    assert engine.answers == [
        {
            "request_id": crew_request().id,
            "feedback": "Looks good",
            "approve": True,
            "outcome": None,
        }
    ]
    assert app.results == [AnswerOutcome.ACCEPTED]


async def test_request_changes_needs_feedback() -> None:
    engine = FakeEngine()
    app = _modal_app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#hi-changes")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        error = str(app.screen.query_one("#hi-feedback-error", Static).render())
        assert "Feedback is required to request changes" in error
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"Cite sources")
        await pilot.click("#hi-changes")
        await pilot.pause()
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "✓ Sent: the task runs again with your feedback" in _result(app)
        assert "Approved" not in _result(app)
    assert engine.answers == [
        {
            "request_id": crew_request().id,
            "feedback": "Cite sources",
            "approve": False,
            "outcome": None,
        }
    ]


async def test_flow_has_one_button_per_outcome() -> None:
    engine = FakeEngine()
    engine.answer_results = [AnswerOutcome.ANSWERED_ELSEWHERE]
    app = _modal_app(engine, flow_request())
    async with app.run_test(size=(120, 36)) as pilot:
        labels = [str(b.label) for b in app.screen.query(".answer").results(Button)]
        assert labels == ["approved", "rejected", "needs_legal"]
        assert not app.screen.query("#hi-approve")
        await pilot.click("#hi-outcome-2")
        await pilot.pause()
        assert "'needs_legal'" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Someone else answered this request first" in _result(app)
    assert engine.answers == [
        {"request_id": "hitl-42", "feedback": "", "approve": None, "outcome": "needs_legal"}
    ]


async def test_flow_outcome_taken_says_the_outcome_name() -> None:
    app = _modal_app(FakeEngine(), flow_request())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#hi-outcome-1")
        await pilot.pause()
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "✓ Sent rejected: the flow continues" in _result(app)


async def test_failure_offers_retry_and_not_waiting_is_said_plainly() -> None:
    engine = FakeEngine()
    engine.answer_results = [
        ConnectionFailedError("connection refused", may_have_reached_server=False),
        AnswerOutcome.NOT_WAITING,
    ]
    app = _modal_app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#hi-approve")
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Sending failed (connection refused)" in _result(app)
        retry = app.screen.query_one("#hi-retry", Button)
        assert retry.display
        await pilot.click("#hi-retry")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no longer waiting" in _result(app)
        await pilot.press("escape")
    assert len(engine.answers) == 2 and engine.answers[0] == engine.answers[1]
    assert app.results == [AnswerOutcome.NOT_WAITING]


async def test_inbox_lists_pending_requests_live_and_opens_the_modal() -> None:
    engine = FakeEngine(requests=[crew_request(), flow_request()])
    app = ScreenApp(lambda: InboxScreen(engine))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        assert [r.id for r in screen.requests] == ["hitl-42", crew_request().id]  # oldest first
        table = screen.query_one(DataTable)
        assert table.row_count == 2

        engine.requests = [flow_request()]
        engine.publish(InboxChanged(crew_request(answered=AnswerOutcome.ACCEPTED)))
        await pilot.pause()
        assert table.row_count == 1

        await pilot.press("enter")
        await pilot.pause()
        # the app opens the modal for exactly this request (run_actions)
        assert [(type(m).__name__, m.request_id) for m in app.asked] == [  # type: ignore[attr-defined]
            ("AnswerRequest", "hitl-42")
        ]


async def test_the_inbox_ticks_its_waiting_times_without_crashing() -> None:
    """Defect 1: the 1-s tick updated cells by column label while the columns had generated
    keys: CellDoesNotExist about a second after `I`."""
    engine = FakeEngine(requests=[crew_request(), flow_request()])
    clock = [NOW]
    app = ScreenApp(lambda: InboxScreen(engine))
    app.now = lambda: clock[0]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        table = screen.query_one(DataTable)
        before = table.get_cell(crew_request().id, "waiting")
        clock[0] += 65
        screen._tick()  # what the 1-s interval runs
        await pilot.pause()
        after = table.get_cell(crew_request().id, "waiting")
        assert before != after and str(after) == "4m 10s"
        assert str(table.get_cell("hitl-42", "task")) == "(flow step)"  # not a bare dash


async def test_unsent_feedback_survives_escape_and_comes_back_on_reopen() -> None:
    engine = FakeEngine()
    app = _modal_app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"Cite the 3x claim")  # the editor has focus on open
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)
        assert any("draft" in note for note in app.notes)  # the operator is told it is kept

        app.push_screen(HumanInputModal(engine, crew_request()))
        await pilot.pause()
        editor = app.screen.query_one("#hi-feedback", TextArea)
        assert editor.text == "Cite the 3x claim"
        await pilot.press(*" here")  # typing goes on after the draft, not before it
        assert editor.text == "Cite the 3x claim here"
        editor.load_text("Cite the 3x claim")

        # once the answer is taken, the draft is gone: a later request starts empty
        await pilot.click("#hi-changes")
        await pilot.pause()
        await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(HumanInputModal(engine, crew_request()))
        await pilot.pause()
        assert app.screen.query_one("#hi-feedback", TextArea).text == ""
    assert [a["feedback"] for a in engine.answers] == ["Cite the 3x claim"]


def test_draft_store_keeps_text_per_request() -> None:
    from crewdash.tui.drafts import DraftStore

    drafts = DraftStore()
    drafts.put("a", "note for a")
    drafts.put("b", "   ")  # blank is no draft
    assert drafts.get("a") == "note for a" and drafts.get("b") == "" and "b" not in drafts
    drafts.discard("a")
    assert drafts.get("a") == "" and len(drafts) == 0


async def test_after_an_answer_the_waiting_line_stops_and_a_second_round_says_its_attempt() -> None:
    """Defect 11: after answering, 'Waiting' froze as if still waiting, and a second round
    (after 'request changes') did not say which attempt it was."""
    engine = FakeEngine()
    clock = [NOW]
    second = crew_request(id=f"{crew_request().id}#2", attempt=2)
    app = ScreenApp(lambda: HumanInputModal(engine, second))
    app.now = lambda: clock[0]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        modal = app.screen
        assert isinstance(modal, HumanInputModal)
        title = str(modal.query_one("#hi-title", Static).render())
        assert "attempt 2" in title
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")  # the confirmation
        await app.workers.wait_for_complete()
        await pilot.pause()
        waited = modal.query_one("#hi-waited", Static)
        assert str(waited.render()) == "Answered after 3m 05s"
        clock[0] += 120
        modal._tick()  # the 1-s tick: an answered request's time no longer runs
        assert str(waited.render()) == "Answered after 3m 05s"
    assert [a["request_id"] for a in engine.answers] == [second.id]
