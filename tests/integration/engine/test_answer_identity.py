"""An answer is about what the operator saw (issue 13): the inbox, with a real client against
the simulator and a real store, sends an answer only while the run is still in the pause the
operator saw. Another operator (another machine: plain HTTP here) answers first; ours is not
sent and says why. No monitor runs: the pauses are filed from statuses asked here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crewdash.aop import AsyncCrewClient, RetryPolicy
from crewdash.core.events import EventBus
from crewdash.core.inbox.inbox import Inbox
from crewdash.core.models import AnswerOutcome
from crewdash.core.store.database import RunStore

CREW = "review"


@pytest.fixture
async def setup(sim_server: Any, tmp_path: Path) -> AsyncIterator[tuple[Inbox, AsyncCrewClient]]:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    async with AsyncCrewClient(
        sim_server.crew_url(CREW), sim_server.token(CREW), retry=RetryPolicy.none()
    ) as client:
        yield Inbox(store, EventBus(), client_for=lambda _crew: client), client
    store.close()


async def _paused(client: AsyncCrewClient, kickoff_id: str, not_output: str = "") -> Any:
    """The run's status once it is paused (with an output other than `not_output`)."""
    for _ in range(2000):  # the simulator's own progress: no event to await from outside
        status = await client.status(kickoff_id)
        if status.pending_output and status.pending_output != not_output:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError("the run never paused")


async def _other_operator(server: Any, kickoff_id: str, approve: bool, feedback: str) -> None:
    body = {
        "execution_id": kickoff_id,
        "task_id": "review",
        "human_feedback": feedback,
        "is_approve": approve,
    }
    headers = {"Authorization": f"Bearer {server.token(CREW)}"}
    async with httpx.AsyncClient() as http:
        r = await http.post(server.crew_url(CREW) + "/resume", json=body, headers=headers)
    assert r.status_code == 200, r.text


def _resumes(stats: dict[str, Any], kickoff_id: str) -> list[dict[str, Any]]:
    return [r for r in stats["resumes"] if r["body"]["execution_id"] == kickoff_id]


async def test_a_new_round_waiting_is_not_answered_with_what_was_seen_before(
    setup, sim_server: Any, sim_stats: Any
) -> None:
    inbox, client = setup
    kickoff_id = await client.kickoff({"brief": "b"})
    first = await _paused(client, kickoff_id)
    req = inbox.seen_polled(CREW, kickoff_id, first)
    assert req is not None and req.attempt == 1
    shown = req.identity  # what the operator reads in the modal

    await _other_operator(sim_server, kickoff_id, False, "shorter, please")  # fast re-run
    await _paused(client, kickoff_id, not_output=first.pending_output)

    outcome = await inbox.answer(req.id, feedback="ship it", approve=True, seen=shown)
    assert outcome is AnswerOutcome.SUPERSEDED
    assert len(_resumes(await sim_stats(sim_server), kickoff_id)) == 1  # only the other one
    now = inbox.superseded_by(req.id)
    assert now is not None and now.attempt == 2 and now.id == f"{kickoff_id}:review#2"
    assert "shorter, please" in now.output  # the new round's output, to be read first
    [decision] = inbox.store.decisions(req.id)
    assert str(decision["outcome"]) == "superseded" and decision["server_answer"].startswith(
        "not sent"
    )
    # Answering what waits now, as now shown, goes through.
    again = await inbox.answer(now.id, feedback="ok", approve=True, seen=now.identity)
    assert again is AnswerOutcome.ACCEPTED
    assert len(_resumes(await sim_stats(sim_server), kickoff_id)) == 2


async def test_a_run_that_went_on_is_said_answered_by_someone_else(
    setup, sim_server: Any, sim_stats: Any
) -> None:
    inbox, client = setup
    kickoff_id = await client.kickoff({"brief": "c"})
    req = inbox.seen_polled(CREW, kickoff_id, await _paused(client, kickoff_id))
    assert req is not None
    await _other_operator(sim_server, kickoff_id, True, "fine")

    outcome = await inbox.answer(req.id, feedback="ship it", approve=True, seen=req.identity)
    assert outcome is AnswerOutcome.ANSWERED_ELSEWHERE
    assert len(_resumes(await sim_stats(sim_server), kickoff_id)) == 1
    said = inbox.store.decisions(req.id)[-1]["server_answer"]
    assert "someone else answered first" in said
    assert inbox.pending() == []


async def test_output_changed_since_shown_is_not_answered(setup, sim_server: Any) -> None:
    inbox, client = setup
    kickoff_id = await client.kickoff({"brief": "d"})
    req = inbox.seen_polled(CREW, kickoff_id, await _paused(client, kickoff_id))
    assert req is not None
    stale = req.identity
    shown_later = inbox.seen_crew_webhook(
        CREW, {"kickoff_id": kickoff_id, "task_id": "review", "output": "a revised draft"}
    )
    assert shown_later is not None and shown_later.id == req.id  # the same request, new text
    outcome = await inbox.answer(req.id, feedback="ok", approve=True, seen=stale)
    assert outcome is AnswerOutcome.SUPERSEDED
    assert inbox.superseded_by(req.id).output == "a revised draft"
    assert inbox.store.decisions(req.id) == []  # nothing claimed, nothing sent
