"""The inbox: dedup across sources, answer outcomes, one answer per request."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from crewdash.aop.errors import (
    AlreadyAnsweredError,
    NotPausedError,
    ServerError,
)
from crewdash.aop.models import ResumeResult, RunState, Webhooks
from crewdash.core.events import EventBus
from crewdash.core.inbox.inbox import Inbox, InboxError, is_rejection, resume_answer
from crewdash.core.models import AnswerOutcome, InboxChanged, RequestSource
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, completed, status


class FakeAnswerClient:
    def __init__(self) -> None:
        self.resumes: list[tuple] = []
        self.callbacks: list[tuple[str, str]] = []
        self.error: BaseException | None = None
        self.gate: asyncio.Event | None = None

    async def resume(self, kickoff_id, task_id, feedback, approve, *, webhooks=None):
        self.resumes.append((kickoff_id, task_id, feedback, approve, webhooks))
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return ResumeResult("resumed", "ok")

    async def answer_callback(self, url: str, feedback: str) -> None:
        self.callbacks.append((url, feedback))
        if self.error is not None:
            raise self.error


def setup(store: RunStore):
    bus = EventBus()
    events: list = []
    bus.subscribe(events.append)
    client = FakeAnswerClient()
    refreshed: list[str] = []
    inbox = Inbox(
        store, bus, client_for=lambda crew: client, clock=ManualClock(), refresh=refreshed.append
    )
    hooks = {"task_url": "http://127.0.0.1:9/t", "crew_url": "http://127.0.0.1:9/c"}
    run = store.create_intent("review", {}, "req-1", hooks)
    run = store.mark_accepted(run.local_id, "kick-1")
    return inbox, client, events, run, refreshed


def setup_on(store: RunStore, run):
    """Another inbox (another process) on a store that already holds `run`."""
    bus = EventBus()
    events: list = []
    bus.subscribe(events.append)
    client = FakeAnswerClient()
    inbox = Inbox(store, bus, client_for=lambda crew: client, clock=ManualClock())
    return inbox, client, events, store.get(run.local_id), None


def paused(output: str = "draft v1"):
    return status(
        RunState.AWAITING_INPUT,
        raw="pending_human_input",
        pending_task_id="review_task",
        pending_output=output,
        pending_prompt="Approve?",
    )


async def test_status_and_webhook_sightings_become_one_request(store) -> None:
    inbox, _client, events, run, _ = setup(store)
    for _ in range(3):
        inbox.seen_status(run, paused())
    inbox.seen_crew_webhook(
        "review", {"kickoff_id": "kick-1", "task_id": "review_task", "context": "ctx"}
    )
    pending = inbox.pending()
    assert [r.id for r in pending] == ["kick-1:review_task"]
    assert pending[0].output == "draft v1" and pending[0].context == "ctx"
    assert pending[0].local_id == run.local_id
    assert isinstance(events[0], InboxChanged)


async def test_accepted_answer_resends_the_kickoff_webhooks_after_the_audit_row(store) -> None:
    inbox, client, events, run, refreshed = setup(store)
    req = inbox.seen_status(run, paused())
    outcome = await inbox.answer(req.id, feedback="looks good", approve=True, user="ana")
    assert outcome is AnswerOutcome.ACCEPTED
    assert client.resumes == [
        (
            "kick-1",
            "review_task",
            "looks good",
            True,
            Webhooks(task_url="http://127.0.0.1:9/t", crew_url="http://127.0.0.1:9/c"),
        )
    ]
    [decision] = store.decisions(req.id)
    assert decision["outcome"] == "accepted" and decision["feedback"] == "looks good"
    assert inbox.pending() == []
    assert events[-1].request.answered is AnswerOutcome.ACCEPTED
    assert refreshed == [run.local_id]


async def test_a_second_answer_is_never_sent(store) -> None:
    inbox, client, _events, run, _ = setup(store)
    req = inbox.seen_status(run, paused())
    client.gate = asyncio.Event()
    first = asyncio.create_task(inbox.answer(req.id, feedback="a", approve=True))
    await asyncio.sleep(0)
    with pytest.raises(InboxError):
        await inbox.answer(req.id, feedback="b", approve=True)
    client.gate.set()
    assert await first is AnswerOutcome.ACCEPTED
    assert await inbox.answer(req.id, feedback="c", approve=False) is AnswerOutcome.ACCEPTED
    assert len(client.resumes) == 1
    # the same pause seen again before the run moves on is not a new request
    assert inbox.seen_status(run, paused()) is None


async def test_rejection_then_new_pause_is_a_new_round(store) -> None:
    inbox, _client, _e, run, _ = setup(store)
    req = inbox.seen_status(run, paused("draft v1"))
    await inbox.answer(req.id, feedback="shorter please", approve=False)
    again = inbox.seen_status(run, paused("draft v2 (shorter please)"))
    assert again is not None and again.id == "kick-1:review_task#2"


async def test_outcomes_409_400_and_failure(store) -> None:
    inbox, client, _e, run, refreshed = setup(store)
    req = inbox.seen_status(run, paused())

    client.error = ServerError("502 from the proxy", status_code=502)
    assert await inbox.answer(req.id, feedback="x", approve=True) is AnswerOutcome.FAILED
    assert [r.id for r in inbox.pending()] == [req.id]  # still waiting: retry allowed

    # A pause this crewdash saw that the server says is gone: another operator answered it
    # (issue 13 words it as such, not "not waiting").
    client.error = NotPausedError("not paused", status_code=400)
    outcome = await inbox.answer(req.id, feedback="x", approve=True)
    assert outcome is AnswerOutcome.ANSWERED_ELSEWHERE
    assert refreshed == [run.local_id]  # the run is polled again at once
    assert [d["outcome"] for d in store.decisions(req.id)] == ["failed", "answered_elsewhere"]
    assert "someone else answered first" in store.decisions(req.id)[-1]["server_answer"]

    flow = inbox.seen_flow_webhook(
        "approvals",
        {
            "event_type": "new_request",
            "id": "hr-9",
            "message": "Approve the budget?",
            "output": "# Budget",
            "emit": ["approved", "rejected"],
            "callback_url": "http://127.0.0.1:9/cb/hr-9",
            "sla_target_minutes": 30,
        },
    )
    assert flow.source is RequestSource.FLOW_WEBHOOK and flow.emit == ("approved", "rejected")
    client.error = AlreadyAnsweredError("already_responded", status_code=409)
    outcome = await inbox.answer("hr-9", feedback="ok", outcome="approved")
    assert outcome is AnswerOutcome.ANSWERED_ELSEWHERE
    assert client.callbacks == [("http://127.0.0.1:9/cb/hr-9", "approved: ok")]
    with pytest.raises(InboxError):
        await inbox.answer(req.id + "-nope", feedback="x")


async def test_a_run_that_goes_on_closes_its_pending_request_as_answered_elsewhere(store) -> None:
    inbox, client, _e, run, _ = setup(store)
    inbox.seen_status(run, paused())
    inbox.seen_status(run, status(RunState.RUNNING, task="publish"))
    assert inbox.pending() == []
    req = store.get_request("kick-1:review_task")
    assert req.answered is AnswerOutcome.ANSWERED_ELSEWHERE
    assert client.resumes == []


async def test_malformed_webhook_payloads_are_ignored(store) -> None:
    inbox, *_ = setup(store)
    assert inbox.seen_crew_webhook("review", {"task_id": 3}) is None
    assert inbox.seen_flow_webhook("approvals", {"id": True}) is None
    assert inbox.seen_flow_webhook("approvals", {"message": "no id"}) is None
    assert inbox.pending() == []


async def test_a_flow_outcome_travels_over_resume_in_the_feedback(store) -> None:
    inbox, client, _events, run, _ = setup(store)
    req = inbox.seen_status(run, paused())
    outcome = await inbox.answer(req.id, feedback="too vague", outcome="reject", user="ana")
    assert outcome is AnswerOutcome.ACCEPTED
    (sent,) = client.resumes
    assert sent[:4] == ("kick-1", "review_task", "reject: too vague", False)
    [decision] = store.decisions(req.id)
    # the audit row keeps what the operator chose and wrote, and the is_approve that was sent
    assert decision["outcome_choice"] == "reject" and decision["feedback"] == "too vague"
    assert decision["approve"] is False and decision["channel"] == "resume"


async def test_an_outcome_alone_is_the_feedback_and_approves(store) -> None:
    inbox, client, _events, run, _ = setup(store)
    req = inbox.seen_status(run, paused())
    await inbox.answer(req.id, feedback="", outcome="escalate")
    assert client.resumes[0][2:4] == ("escalate", True)
    [decision] = store.decisions(req.id)
    assert decision["outcome_choice"] == "escalate" and decision["approve"] is True


def test_resume_answer_rule() -> None:
    assert resume_answer("", None, None) == ("", True)
    assert resume_answer("fix x", False, None) == ("fix x", False)
    assert resume_answer("", None, "approve") == ("approve", True)
    assert resume_answer("ok", None, "Request-Changes") == ("Request-Changes: ok", False)
    assert resume_answer("", None, "denied") == ("denied", False)
    assert resume_answer("", True, "reject") == ("reject", True)  # an explicit choice wins
    assert is_rejection("reject") and is_rejection("send back")
    assert not is_rejection("escalate") and not is_rejection("approve")


async def test_a_flow_pause_seen_by_polling_carries_its_outcomes(store) -> None:
    inbox, _client, _events, run, _ = setup(store)
    flow_pause = status(
        RunState.AWAITING_INPUT,
        raw="pending_human_input",
        pending_task_id="review_task",
        pending_output="draft",
        pending_emit=("approve", "reject", "escalate"),
    )
    req = inbox.seen_status(run, flow_pause)
    assert req is not None and req.emit == ("approve", "reject", "escalate")
    assert store.get_request(req.id).emit == ("approve", "reject", "escalate")
    with pytest.raises(InboxError):  # the outcomes are checked like a webhook's
        await inbox.answer(req.id, feedback="", outcome="maybe")


def _flow_pause():
    return status(
        RunState.AWAITING_INPUT,
        raw="awaiting_human_feedback",
        pending_task_id="check",
        pending_output="draft",
        pending_emit=("approve", "reject"),
    )


def _flow_delivery():
    return {
        "id": "kick-1:check:1",
        "execution_id": "kick-1",
        "message": "Decide",
        "output": "draft",
        "emit": ["approve", "reject"],
        "callback_url": "http://127.0.0.1:9/cb",
    }


@pytest.mark.parametrize("polled_first", [True, False])
async def test_a_flow_pause_seen_by_polling_and_by_its_webhook_is_one_request(
    store, polled_first: bool
) -> None:
    inbox, _client, _events, run, _ = setup(store)
    if polled_first:
        inbox.seen_status(run, _flow_pause())
        inbox.seen_flow_webhook("review", _flow_delivery())
    else:
        inbox.seen_flow_webhook("review", _flow_delivery())
        inbox.seen_status(run, _flow_pause())
    inbox.seen_status(run, _flow_pause())  # polled again: still one
    (only,) = inbox.pending()
    # the first sighting's id stays the key; the delivery brings its id and callback
    assert only.id == ("kick-1:check" if polled_first else "kick-1:check:1")
    assert only.flow_request_id == "kick-1:check:1"
    assert only.callback_url == "http://127.0.0.1:9/cb"


# --- one identity per request, whatever channel reported it --------------------------------

FLOW_CB = "http://127.0.0.1:9/cb"


def flow_setup(store: RunStore):
    """A run of the flow `approvals` (configured kind = "flow")."""
    bus = EventBus()
    events: list = []
    bus.subscribe(events.append)
    client = FakeAnswerClient()
    inbox = Inbox(
        store,
        bus,
        client_for=lambda crew: client,
        clock=ManualClock(),
        flow_crew=lambda crew: crew == "approvals",
    )
    run = store.create_intent("approvals", {}, "req-f", {"task_url": "http://127.0.0.1:9/t"})
    run = store.mark_accepted(run.local_id, "kick-1")
    return inbox, client, events, run


def _task_webhook(output: str = "draft") -> dict:
    """What a flow's task webhook says when its step pauses (names the step, no outcomes)."""
    return {
        "kickoff_id": "kick-1",
        "execution_id": "kick-1",
        "task_id": "check",
        "status": "awaiting_human_feedback",
        "human_input_required": True,
        "prompt": "Decide",
        "output": output,
    }


def _signed(request_id: str = "kick-1:check:1", output: str = "draft", **extra) -> dict:
    """A signed flow delivery as AOP documents it: no step name, a callback."""
    return {
        "event_type": "new_request",
        "id": request_id,
        "execution_id": "kick-1",
        "message": "Decide",
        "output": output,
        "emit": ["approve", "reject"],
        "callback_url": FLOW_CB,
        "sla_target_minutes": 30,
        **extra,
    }


CHANNELS = {
    "crew": lambda inbox, run: inbox.seen_crew_webhook(run.crew, _task_webhook()),
    "flow": lambda inbox, run: inbox.seen_flow_webhook(run.crew, _signed()),
    "status": lambda inbox, run: inbox.seen_status(run, _flow_pause()),
}


@pytest.mark.parametrize("order", list(itertools.permutations(CHANNELS)), ids="-".join)
async def test_a_flow_pause_every_channel_reports_is_one_flow_request(store, order) -> None:
    inbox, _client, events, run = flow_setup(store)
    first = CHANNELS[order[0]](inbox, run)
    assert first is not None and first.is_flow  # a flow's, whichever channel came first
    for channel in order[1:]:
        CHANNELS[channel](inbox, run)
    CHANNELS["status"](inbox, run)  # polled again: still one
    (only,) = inbox.pending()
    assert only.id == first.id  # the id a modal may already hold stays the key
    assert only.is_flow and only.emit == ("approve", "reject")
    assert only.callback_url == FLOW_CB and only.flow_request_id == "kick-1:check:1"
    assert only.task_id == "check" and only.attempt == 1  # the step named by another channel
    assert only.local_id == run.local_id and only.sla_minutes == 30
    assert {e.request.id for e in events if isinstance(e, InboxChanged)} == {first.id}


async def test_a_request_is_a_flows_by_the_crews_kind_or_its_outcomes(store) -> None:
    inbox, _client, _events, _run = flow_setup(store)
    by_kind = inbox.seen_crew_webhook("approvals", _task_webhook())
    assert by_kind.is_flow and store.get_request(by_kind.id).is_flow
    crew_inbox, *_ = setup(store)
    crew = crew_inbox.seen_crew_webhook("review", {"kickoff_id": "kick-1", "task_id": "t"})
    assert not crew.is_flow
    with_emit = crew_inbox.seen_crew_webhook(
        "review", {"kickoff_id": "kick-2", "task_id": "t", "emit": ["go", "stop"]}
    )
    assert with_emit.is_flow and with_emit.emit == ("go", "stop")


async def test_a_flow_request_first_seen_by_the_task_webhook_answers_through_its_callback(
    store,
) -> None:
    inbox, client, _events, run = flow_setup(store)
    req = inbox.seen_crew_webhook("approvals", _task_webhook())
    inbox.seen_flow_webhook("approvals", _signed())
    assert await inbox.answer(req.id, feedback="fine", outcome="approve") is (
        AnswerOutcome.ACCEPTED
    )
    assert client.callbacks == [(FLOW_CB, "approve: fine")] and client.resumes == []
    # the pause polled again before the flow moved on: not a new request
    assert inbox.seen_status(run, _flow_pause()) is None
    assert inbox.seen_crew_webhook("approvals", _task_webhook()) is None
    assert inbox.pending() == []


async def test_a_new_flow_request_for_the_same_step_is_the_next_attempt(store) -> None:
    inbox, _client, _events, run = flow_setup(store)
    first = inbox.seen_flow_webhook("approvals", _signed())
    inbox.seen_status(run, _flow_pause())
    await inbox.answer(first.id, feedback="again", outcome="reject")
    second = inbox.seen_flow_webhook("approvals", _signed("kick-1:check:2", output="draft 2"))
    assert second is not None and second.id == "kick-1:check:2" and second.attempt == 2
    # polled (the same text: the step's output did not change) and delivered again: that
    # same second request, which polling names
    inbox.seen_status(run, _flow_pause())
    inbox.seen_flow_webhook("approvals", _signed("kick-1:check:2", output="draft 2"))
    assert [(r.id, r.attempt, r.task_id) for r in inbox.pending()] == [
        ("kick-1:check:2", 2, "check")
    ]


async def test_a_newer_flow_request_closes_the_one_it_replaced(store) -> None:
    inbox, _client, _events, _run = flow_setup(store)
    first = inbox.seen_flow_webhook("approvals", _signed())
    second = inbox.seen_flow_webhook("approvals", _signed("kick-1:check:2", output="v2"))
    assert [r.id for r in inbox.pending()] == [second.id] and second.attempt == 2
    assert store.get_request(first.id).answered is AnswerOutcome.ANSWERED_ELSEWHERE


async def test_crew_rounds_carry_their_attempt(store) -> None:
    inbox, _client, _e, run, _ = setup(store)
    req = inbox.seen_status(run, paused("draft v1"))
    assert req.attempt == 1 and not req.is_flow
    await inbox.answer(req.id, feedback="shorter please", approve=False)
    again = inbox.seen_status(run, paused("draft v2 (shorter please)"))
    assert (again.id, again.attempt) == ("kick-1:review_task#2", 2)
    hooked = inbox.seen_crew_webhook(
        "review", {"kickoff_id": "kick-1", "task_id": "review_task", "output": "draft v2"}
    )
    assert hooked.id == again.id  # the webhook of round 2 is round 2
    assert [r.id for r in inbox.pending()] == [again.id]


async def test_a_stale_running_poll_does_not_close_a_pause_only_a_webhook_reported(store) -> None:
    inbox, _client, _e, run, _ = setup(store)
    inbox.seen_crew_webhook("review", {"kickoff_id": "kick-1", "task_id": "review_task"})
    inbox.seen_status(run, status(RunState.RUNNING, task="review_task"))  # sent before the pause
    assert [r.id for r in inbox.pending()] == ["kick-1:review_task"]


@pytest.mark.parametrize(
    ("final", "closed_as"),
    [
        (completed(), AnswerOutcome.ANSWERED_ELSEWHERE),
        (status(RunState.ERROR, error="boom"), AnswerOutcome.NOT_WAITING),
    ],
)
async def test_a_run_seen_final_closes_every_request_of_it(store, final, closed_as) -> None:
    inbox, _client, events, run = flow_setup(store)
    req = inbox.seen_flow_webhook("approvals", _signed())
    record, _ = store.record_status(run.local_id, final, 2.0)
    inbox.seen_status(record, final)
    assert inbox.pending() == []
    assert store.get_request(req.id).answered is closed_as
    [decision] = store.decisions(req.id)
    assert decision["channel"] == "observed" and decision["server_answer"]
    assert events[-1].request.id == req.id and events[-1].request.answered is closed_as


async def test_on_start_requests_of_runs_already_final_are_closed(store) -> None:
    inbox, _client, _events, run = flow_setup(store)
    req = inbox.seen_crew_webhook("approvals", _task_webhook())
    store.record_status(run.local_id, completed(), 2.0)  # finished while nobody watched
    other, *_ = setup(store)  # a run still waiting keeps its request
    waiting = other.seen_crew_webhook("review", {"kickoff_id": "kick-9", "task_id": "t"})
    assert inbox.close_finished() == 1
    assert [r.id for r in inbox.pending()] == [waiting.id]
    assert store.get_request(req.id).answered is AnswerOutcome.ANSWERED_ELSEWHERE
    assert "completed" in store.decisions(req.id)[0]["server_answer"]


async def test_decisions_of_a_run_for_its_history(store) -> None:
    inbox, _client, _e, run, _ = setup(store)
    req = inbox.seen_status(run, paused("draft v1"))
    await inbox.answer(req.id, feedback="shorter", approve=False, user="ana")
    again = inbox.seen_status(run, paused("draft v2"))
    await inbox.answer(again.id, feedback="ok", approve=True, user="bo")
    other_inbox, *_ = flow_setup(store)  # another run's decisions are not this run's
    other = other_inbox.seen_crew_webhook("approvals", _task_webhook())
    await other_inbox.answer(other.id, feedback="", outcome="approve")
    got = store.decisions_for_run(run.local_id)
    assert [(d.request_id, d.task_id, d.attempt) for d in got] == [
        ("kick-1:review_task", "review_task", 1),
        ("kick-1:review_task#2", "review_task", 2),
    ]
    first = got[0]
    assert (first.user, first.feedback, first.approve, first.outcome) == (
        "ana",
        "shorter",
        False,
        None,
    )
    assert first.channel == "resume" and first.result is AnswerOutcome.ACCEPTED
    assert first.server_answer == "resumed: ok" and first.at > 0
    [flow_decision] = store.decisions_for_run(other.local_id)
    assert flow_decision.outcome == "approve" and flow_decision.kickoff_id == "kick-1"


async def test_an_escalation_of_a_flow_request_is_that_request(store) -> None:
    inbox, _client, _events, _run = flow_setup(store)
    first = inbox.seen_flow_webhook("approvals", _signed())
    escalated = inbox.seen_flow_webhook(
        "approvals", _signed(event_type="escalation", assigned_to="ops", sla_target_minutes=5)
    )
    assert escalated.id == first.id and escalated.assigned_to == "ops"
    assert escalated.sla_minutes == 5 and len(inbox.pending()) == 1
    # a delivery naming no run is a request of its own, once
    loose = {"id": "hr-7", "message": "Approve?", "emit": ["yes", "no"], "callback_url": FLOW_CB}
    alone = inbox.seen_flow_webhook("approvals", loose)
    again = inbox.seen_flow_webhook("approvals", {**loose, "message": "Approve, please?"})
    assert alone.id == again.id == "hr-7" and again.prompt == "Approve, please?"
    assert [r.id for r in inbox.pending()] == [first.id, "hr-7"]


async def test_a_request_another_process_answered_is_announced_answered_here(
    store, tmp_path
) -> None:
    inbox, _client, events, run, _ = setup(store)
    req = inbox.seen_status(run, paused())
    other_store = RunStore.open(tmp_path / "runs.sqlite3")  # the CLI's connection
    try:
        other, _c, _e, _r, _ = setup_on(other_store, run)
        assert [r.id for r in other.pending()] == [req.id]  # the same request there
        assert await other.answer(req.id, feedback="ok", approve=True) is AnswerOutcome.ACCEPTED
    finally:
        other_store.close()
    inbox.seen_status(run, status(RunState.RUNNING, task="publish"))
    assert events[-1].request.id == req.id
    assert events[-1].request.answered is AnswerOutcome.ACCEPTED
    # not closed again here: the other process's answer is the record
    assert [d["user"] for d in store.decisions(req.id)] != ["(observed)"]
    assert len(store.decisions(req.id)) == 1


def test_the_losing_process_hears_who_answered_and_from_where() -> None:
    """The words a process that lost the claim writes: a browser's answer says so."""
    from crewdash.core.inbox.answers import how_answered
    from crewdash.core.models import DecisionRecord

    def decision(origin: str) -> DecisionRecord:
        return DecisionRecord(
            1, 0.0, "h-1", "k-1", "review", 1, "ana", "ok", True, None, "resume",
            AnswerOutcome.ACCEPTED, "resumed", 1.0, origin=origin,
        )  # fmt: skip

    browser = how_answered(decision("browser"))
    assert browser.startswith("someone else answered first: ana approved")
    assert browser.endswith("via resume from a browser")
    assert how_answered(decision("dashboard")).endswith("via resume")
