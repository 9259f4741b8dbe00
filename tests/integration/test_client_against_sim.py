"""The API client over real loopback HTTP against the simulator's `testing` scenario: every
route, each inputs shape, both status routes, human input, stop, and the refusals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from crewdash.aop import (
    AsyncCrewClient,
    AuthenticationError,
    CrewClient,
    InputType,
    NotFoundError,
    NotPausedError,
    RetryPolicy,
    RunState,
    RunStatus,
    StatusRoute,
    UnsupportedError,
    ValidationError,
)


def crew(sim_server, name: str, **kw) -> AsyncCrewClient:
    return AsyncCrewClient(sim_server.crew_url(name), sim_server.token(name), **kw)


async def wait_for(
    client: AsyncCrewClient, kickoff_id: str, done: Callable[[RunStatus], bool]
) -> RunStatus:
    """Poll as a client would (the simulator runs at 10x: every run ends well within 5 s)."""
    async with asyncio.timeout(5.0):
        while True:
            status = await client.status(kickoff_id)
            if done(status):
                return status
            await asyncio.sleep(0.02)


async def test_health(sim_server):
    async with crew(sim_server, "basic") as client:
        assert 0.0 < await client.health() < 5.0


async def test_inputs_in_each_shape_the_simulator_offers(sim_server):
    async with crew(sim_server, "basic") as basic, crew(sim_server, "review") as review:
        assert [(s.name, s.required) for s in await basic.inputs()] == [("topic", True)]
        assert [(s.name, s.required) for s in await review.inputs()] == [
            ("brief", True),
            ("tone", False),
        ]
    async with crew(sim_server, "legacy") as legacy:
        specs = {s.name: s for s in await legacy.inputs()}
    assert {name: s.type for name, s in specs.items()} == {
        "count": InputType.INTEGER,
        "ratio": InputType.NUMBER,
        "flag": InputType.BOOLEAN,
        "mode": InputType.CHOICE,
        "extra": InputType.JSON,
    }
    assert specs["mode"].choices == ("a", "b")
    assert specs["flag"].required is False


async def test_kickoff_then_status_to_completion(sim_server, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore too: the token must not be logged
    async with crew(sim_server, "basic") as client:
        kickoff_id = await client.kickoff({"topic": "tea"}, meta={"crewdash_request_id": "r1"})
        status = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
        assert client.status_route is StatusRoute.CURRENT
    assert status.state is RunState.COMPLETED
    assert status.result is not None and "tea" in status.result.output
    assert [t.task_id for t in status.result.tasks] == ["first", "second"]
    assert status.result.tasks[0].agent == "Researcher"
    assert status.execution_time is not None
    token = sim_server.token("basic")
    assert caplog.records and not any(token in r.getMessage() for r in caplog.records)


async def test_a_failing_run_reports_its_error(sim_server):
    async with crew(sim_server, "failing") as client:
        kickoff_id = await client.kickoff({"x": "y"})
        status = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
    assert (status.state, status.error) == (RunState.ERROR, "Boom on y")


async def test_missing_inputs_are_a_validation_error_naming_them(sim_server):
    async with crew(sim_server, "review") as client:
        with pytest.raises(ValidationError) as caught:
            await client.kickoff({"tone": "dry"})
    assert caught.value.missing_inputs == ("brief",)
    assert caught.value.status_code == 422


async def test_a_wrong_token_is_an_authentication_error(sim_server):
    async with AsyncCrewClient(sim_server.crew_url("basic"), "not-the-token") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.inputs()
    assert caught.value.status_code == 401
    assert "not-the-token" not in str(caught.value)


async def test_the_legacy_status_route_is_detected_and_remembered(sim_server):
    async with crew(sim_server, "legacy") as client:
        kickoff_id = await client.kickoff({"count": 3, "ratio": 0.5})
        status = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
        assert client.status_route is StatusRoute.LEGACY
        assert (status.state, status.result.output) == (RunState.COMPLETED, "Counted 3")
        with pytest.raises(NotFoundError, match="unknown or has expired"):
            await client.status("no-such-run")
    # a new client given the learnt route goes straight to it
    before = sim_server.stats()["requests"]
    async with crew(sim_server, "legacy", status_route=client.status_route) as again:
        await again.status(kickoff_id)
    after = sim_server.stats()["requests"]
    assert _delta(before, after, "legacy") == {"GET /{id}/status 200": 1}


def _delta(before: dict, after: dict, crew_name: str) -> dict:
    """Request counters of one crew that changed between two `/_sim/stats` readings."""

    def flat(requests: dict) -> dict[str, int]:
        routes = requests.get(crew_name, {})
        return {
            f"{route} {code}": n for route, codes in routes.items() for code, n in codes.items()
        }

    old, new = flat(before), flat(after)
    return {k: v - old.get(k, 0) for k, v in new.items() if v != old.get(k, 0)}


async def test_resume_after_a_pause_for_human_input(sim_server):
    async with crew(sim_server, "review") as client:
        kickoff_id = await client.kickoff({"brief": "launch"})
        paused = await wait_for(client, kickoff_id, lambda s: s.state is RunState.AWAITING_INPUT)
        assert paused.raw_state == "Pending Human Input"  # the documented spelling
        assert paused.pending_task_id == "review"
        assert paused.pending_prompt == "Approve the draft?"
        assert "Reviewed draft of launch" in (paused.pending_output or "")
        with pytest.raises(NotFoundError):
            await client.resume("no-such-run", "review", "ok", True)
        retried = await client.resume(kickoff_id, "review", "add numbers", False)
        assert retried.status == "retrying"
        await wait_for(client, kickoff_id, lambda s: s.state is RunState.AWAITING_INPUT)
        resumed = await client.resume(kickoff_id, "review", "good", True)
        assert resumed.status in ("resumed", "completed")
        done = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
        with pytest.raises(NotPausedError):
            await client.resume(kickoff_id, "review", "again", True)
    assert done.state is RunState.COMPLETED


async def test_a_flow_pause_is_read_as_awaiting_input(sim_server):
    async with crew(sim_server, "flow") as client:
        kickoff_id = await client.kickoff({"amount": "12 EUR"})
        paused = await wait_for(client, kickoff_id, lambda s: s.state is RunState.AWAITING_INPUT)
    assert paused.raw_state == "awaiting_human_feedback"
    assert paused.pending_prompt == "Decide on 12 EUR"


async def test_stop(sim_server):
    async with crew(sim_server, "basic") as client:
        kickoff_id = await client.kickoff({"topic": "stop me"})
        await client.stop(kickoff_id)
        status = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
        assert status.state is RunState.STOPPED
        with pytest.raises(NotPausedError, match="already finished"):
            await client.stop(kickoff_id)
    async with crew(sim_server, "legacy") as legacy:
        with pytest.raises(UnsupportedError, match="cannot stop runs"):
            await legacy.stop("any")


async def test_the_sync_client_over_loopback(sim_server):
    def work() -> tuple[list[str], str]:
        url, token = sim_server.crew_url("basic"), sim_server.token("basic")
        with CrewClient(url, token, retry=RetryPolicy.none()) as client:
            names = [s.name for s in client.inputs()]
            return names, client.kickoff({"topic": "sync"})

    names, kickoff_id = await asyncio.to_thread(work)  # the server runs on this loop
    assert names == ["topic"]
    async with crew(sim_server, "basic") as client:
        done = await wait_for(client, kickoff_id, lambda s: s.state.is_final)
    assert done.state is RunState.COMPLETED and "sync" in done.result.output
