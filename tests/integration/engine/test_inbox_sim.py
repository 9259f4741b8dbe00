"""One request per pause, over real HTTP: the simulator reports a flow's pause through the task
webhook, the signed flow webhook and its status; the engine keeps one request, with the flow's
outcomes and callback, answered once; requests of runs that ended do not come back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crewdash.aop.models import RunState, Secret
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.engine import Engine
from crewdash.core.models import AnswerOutcome, HumanRequest, InboxChanged, RequestSource
from crewdash.core.store.database import RunStore
from crewdash.sim.scenario import FlowWebhook
from tests.sim_config import sim_config

FLOW_SECRET = "flow-secret-for-tests"


async def wait_until(engine: Engine, condition: Callable[[], bool], limit: float = 20) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


@pytest.fixture
async def flow_engine(sim_server: Any, tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine whose receiver gets the flow's signed deliveries (and its task webhooks)."""
    receiver = ReceiverConfig(
        enabled=True, host="127.0.0.1", port=0, flow_secret=Secret(FLOW_SECRET)
    )
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine = Engine(sim_config(sim_server, ["flow"], receiver), store)
    await engine.start()
    sim_server.app.configure(
        "flow",
        flow_webhook=FlowWebhook(url=f"{engine.receiver_url}/hooks/flow/flow", secret=FLOW_SECRET),
    )
    yield engine
    await engine.stop()
    store.close()


def _deliveries(stats: dict[str, Any], kickoff_id: str) -> list[str]:
    """The kinds of webhook the simulator delivered (and the receiver took) for one run."""
    return [
        d["kind"]
        for d in stats["webhooks"]["deliveries"]
        if d.get("kickoff_id") == kickoff_id and d.get("ok")
    ]


async def test_a_flow_pause_three_channels_report_is_one_request_answered_once(
    sim_server: Any, sim_stats: Any, flow_engine: Engine
) -> None:
    engine = flow_engine
    added: list[HumanRequest] = []
    engine.subscribe(lambda e: isinstance(e, InboxChanged) and added.append(e.request))
    run = await engine.kickoff("flow", {"amount": "120 EUR"})
    assert run.webhooks.get("task_url")  # the task webhook reports the pause too

    def all_reported() -> bool:
        req = next(iter(engine.inbox()), None)
        record = engine.run(run.local_id)
        return (
            req is not None
            and req.callback_url is not None  # the signed delivery
            and record is not None
            and record.state is RunState.AWAITING_INPUT  # polling
        )

    await wait_until(engine, all_reported)
    await sim_server.app.drain_webhooks()  # every delivery of the pause has been taken
    kinds = _deliveries(await sim_stats(sim_server), run.kickoff_id)
    assert "task" in kinds and "new_request" in kinds
    [request] = engine.inbox()
    assert request.is_flow and request.emit == ("approve", "reject", "escalate")
    assert request.task_id == "check" and request.attempt == 1
    assert request.flow_request_id == f"{run.kickoff_id}:check:1"
    assert {r.id for r in added} == {request.id}  # one identity in every event

    outcome = await engine.answer(request.id, feedback="within budget", outcome="approve")
    assert outcome is AnswerOutcome.ACCEPTED
    await wait_until(engine, lambda: engine.run(run.local_id).state.is_final)
    assert engine.run(run.local_id).state is RunState.COMPLETED
    assert engine.inbox() == []
    stats = await sim_stats(sim_server)
    assert [(c["body"]["feedback"], c["status"]) for c in stats["callbacks"]] == [
        ("approve: within budget", 200)
    ]
    assert stats["resumes"] == []  # one answer, through the flow's own channel

    [decision] = engine.decisions(run.local_id)
    assert (decision.request_id, decision.task_id, decision.attempt) == (request.id, "check", 1)
    assert (decision.outcome, decision.feedback, decision.channel) == (
        "approve",
        "within budget",
        "callback",
    )
    assert decision.result is AnswerOutcome.ACCEPTED and decision.server_answer == "accepted"


async def test_a_rejected_flow_step_comes_back_as_its_second_attempt(
    sim_server: Any, flow_engine: Engine
) -> None:
    engine = flow_engine
    run = await engine.kickoff("flow", {"amount": "7 EUR"})
    await wait_until(engine, lambda: any(r.callback_url for r in engine.inbox()))
    [first] = engine.inbox()
    await engine.answer(first.id, feedback="cheaper", outcome="reject")
    await wait_until(engine, lambda: any(r.attempt == 2 and r.callback_url for r in engine.inbox()))
    [second] = engine.inbox()
    assert second.id != first.id and second.task_id == "check" and second.is_flow
    await engine.answer(second.id, feedback="", outcome="approve")
    await wait_until(engine, lambda: engine.run(run.local_id).state.is_final)
    history = [(d.attempt, d.outcome, d.result) for d in engine.decisions(run.local_id)]
    assert history == [
        (1, "reject", AnswerOutcome.ACCEPTED),
        (2, "approve", AnswerOutcome.ACCEPTED),
    ]


async def test_after_a_restart_a_request_of_a_finished_run_does_not_come_back(
    sim_server: Any, sim_stats: Any, flow_engine: Engine, tmp_path: Path
) -> None:
    engine = flow_engine
    run = await engine.kickoff("flow", {"amount": "5 EUR"})
    await wait_until(engine, lambda: any(r.callback_url for r in engine.inbox()))
    [request] = engine.inbox()
    await engine.stop()  # the dashboard closes while the request waits
    async with httpx.AsyncClient() as http:  # a colleague answers it meanwhile
        answered = await http.post(
            request.callback_url,
            json={"feedback": "approve", "source": "someone"},
            headers={"Authorization": f"Bearer {sim_server.token('flow')}"},
        )
    assert answered.status_code == 200

    # The next start finds the run unfinished in the store; its first poll closes the request.
    again = Engine(sim_config(sim_server, ["flow"]), engine.store)
    await again.start()
    try:
        await wait_until(again, lambda: again.run(run.local_id).state.is_final)
        assert again.run(run.local_id).state is RunState.COMPLETED
        assert again.inbox() == []
        [closed] = again.decisions(run.local_id)
        assert closed.request_id == request.id and closed.user == "(observed)"
        assert closed.result is AnswerOutcome.ANSWERED_ELSEWHERE and closed.server_answer
    finally:
        await again.stop()
    assert (await sim_stats(sim_server))["resumes"] == []


async def test_on_start_a_request_of_a_run_the_store_knows_ended_is_closed_at_once(
    sim_server: Any, tmp_path: Path
) -> None:
    """A store left by an older crewdash: the run completed, a duplicate request still waits.
    The engine closes it before anything is shown, without a request to the deployment."""
    store = RunStore.open(tmp_path / "runs.sqlite3")
    first = Engine(sim_config(sim_server, ["basic"]), store)
    await first.start()
    run = await first.kickoff("basic", {"topic": "t"})
    await wait_until(first, lambda: first.run(run.local_id).state.is_final)
    await first.stop()
    store.upsert_request(
        HumanRequest(
            id=f"{run.kickoff_id}:second",
            crew="basic",
            source=RequestSource.CREW_WEBHOOK,
            received_at=1.0,
            kickoff_id=run.kickoff_id,
            local_id=run.local_id,
            task_id="second",
        )
    )
    second = Engine(sim_config(sim_server, ["basic"]), store)
    seen: list[InboxChanged] = []
    second.subscribe(lambda e: isinstance(e, InboxChanged) and seen.append(e))
    await second.start()
    try:
        assert second.inbox() == []
        assert [e.request.answered for e in seen] == [AnswerOutcome.ANSWERED_ELSEWHERE]
        [closed] = second.decisions(run.local_id)
        assert "completed" in (closed.server_answer or "")
    finally:
        await second.stop()
        store.close()
