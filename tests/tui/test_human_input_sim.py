"""The human-input modal against the real engine and the simulator over loopback HTTP: the
simulator must receive exactly the answer the operator gave, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from screens_fixtures import ScreenApp
from textual.widgets import Static, TextArea

from crewdash.aop.models import Secret
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.engine import Engine
from crewdash.core.models import AnswerOutcome, HumanRequest
from crewdash.core.store.database import RunStore
from crewdash.sim.scenario import FlowWebhook
from crewdash.tui.screens.confirm import ConfirmModal
from crewdash.tui.screens.human_input import HumanInputModal
from tests.sim_config import sim_config

FLOW_SECRET = "flow-secret-for-tests"


@pytest.fixture
async def engine_for(sim_server: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    made: list[tuple[Engine, RunStore]] = []

    async def make(names: list[str], receiver: ReceiverConfig | None = None) -> Engine:
        store = RunStore.open(tmp_path / f"runs{len(made)}.sqlite3")
        engine = Engine(sim_config(sim_server, names, receiver), store)
        made.append((engine, store))
        await engine.start()
        return engine

    yield make
    for engine, store in made:
        await engine.stop()
        store.close()


async def _pending(engine: Engine, wanted: Callable[[HumanRequest], bool]) -> HumanRequest:
    """The first pending request that matches, waiting on engine events (no fixed sleeps)."""
    async with asyncio.timeout(20):
        events = engine.events()
        while True:
            for request in engine.inbox():
                if wanted(request):
                    return request
            await anext(events)


async def _answer_in_modal(app: ScreenApp, pilot: Any, button: str, feedback: str) -> str:
    app.screen.query_one("#hi-feedback", TextArea).load_text(feedback)
    await pilot.click(button)
    await pilot.pause()
    await pilot.click("#confirm-yes")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return str(app.screen.query_one("#hi-result", Static).render())


async def test_crew_request_changes_reaches_resume_exactly(
    sim_server: Any, sim_stats: Any, engine_for: Any
) -> None:
    engine = await engine_for(["review"])
    run = await engine.kickoff("review", {"brief": "launch"})
    request = await _pending(engine, lambda r: r.local_id == run.local_id)

    app = ScreenApp(lambda: HumanInputModal(engine, request))
    async with app.run_test(size=(120, 36)) as pilot:
        shown = await _answer_in_modal(app, pilot, "#hi-changes", "Add the launch date")
        assert "✓ Sent: the task runs again with your feedback" in shown
        await pilot.press("escape")
    assert app.results == [AnswerOutcome.ACCEPTED]

    resumes = (await sim_stats(sim_server))["resumes"]
    assert len(resumes) == 1
    body = resumes[0]["body"]
    assert {k: body[k] for k in ("execution_id", "task_id", "human_feedback", "is_approve")} == {
        "execution_id": run.kickoff_id,
        "task_id": request.task_id,
        "human_feedback": "Add the launch date",
        "is_approve": False,
    }


async def _flow_engine(sim_server: Any, engine_for: Any) -> Engine:
    receiver = ReceiverConfig(
        enabled=True, host="127.0.0.1", port=0, flow_secret=Secret(FLOW_SECRET)
    )
    engine = await engine_for(["flow"], receiver)
    assert engine.receiver_url is not None
    sim_server.app.configure(
        "flow",
        flow_webhook=FlowWebhook(url=f"{engine.receiver_url}/hooks/flow/flow", secret=FLOW_SECRET),
    )
    return engine


async def test_flow_outcome_goes_through_the_callback(
    sim_server: Any, sim_stats: Any, engine_for: Any
) -> None:
    engine = await _flow_engine(sim_server, engine_for)
    await engine.kickoff("flow", {"amount": "120 EUR"})
    request = await _pending(engine, lambda r: r.callback_url is not None)
    assert request.emit == ("approve", "reject", "escalate")

    app = ScreenApp(lambda: HumanInputModal(engine, request))
    async with app.run_test(size=(120, 36)) as pilot:
        shown = await _answer_in_modal(app, pilot, "#hi-outcome-0", "")
        assert "✓ Sent approve: the flow continues" in shown
    callbacks = (await sim_stats(sim_server))["callbacks"]
    assert [(c["body"]["feedback"], c["status"]) for c in callbacks] == [("approve", 200)]
    assert callbacks[0]["body"].get("source") == "crewdash"


async def test_flow_answered_elsewhere_is_shown_not_failed(
    sim_server: Any, sim_stats: Any, engine_for: Any
) -> None:
    engine = await _flow_engine(sim_server, engine_for)
    await engine.kickoff("flow", {"amount": "99 EUR"})
    request = await _pending(engine, lambda r: r.callback_url is not None)
    assert request.callback_url is not None
    async with httpx.AsyncClient() as http:  # a colleague answers first
        first = await http.post(
            request.callback_url,
            json={"feedback": "reject", "source": "someone"},
            headers={"Authorization": f"Bearer {sim_server.token('flow')}"},
        )
    assert first.status_code == 200

    app = ScreenApp(lambda: HumanInputModal(engine, request))
    async with app.run_test(size=(120, 36)) as pilot:
        modal = app.screen
        await pilot.click("#hi-outcome-0")
        await pilot.pause()
        # The engine may see the run go on first: the open modal then says so by itself and
        # its buttons no longer answer. Else the confirmation comes and the server says 409.
        if isinstance(app.screen, ConfirmModal):
            await pilot.click("#confirm-yes")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(modal.query_one("#hi-result", Static).render())
        assert "Someone else answered this request first" in shown
        await pilot.press("escape")
    assert app.results == [AnswerOutcome.ANSWERED_ELSEWHERE]
    statuses = [c["status"] for c in (await sim_stats(sim_server))["callbacks"]]
    # The engine may have seen the run go on first (then nothing is sent), else the
    # deployment says 409: either way, not a second accepted answer.
    assert statuses in ([200], [200, 409])
