"""CrewClient: the same plans driven synchronously (shared logic, so a few checks suffice:
each operation, route learning, retries on the fake clock, errors)."""

from __future__ import annotations

import json

import httpx
import pytest

from crewdash.aop import (
    AuthenticationError,
    CircuitBreaker,
    CircuitOpenError,
    CrewClient,
    NotFoundError,
    RetryPolicy,
    RunState,
    ServerError,
    StatusRoute,
)
from tests.unit.aop.conftest import BASE, TOKEN, Server, json_response

P = "/prefix"


def client(server, clock, **kw) -> CrewClient:
    kw.setdefault("retry", RetryPolicy(random=lambda: 1.0))
    return CrewClient(BASE, TOKEN, clock=clock, transport=server.transport(), **kw)


def test_every_operation(clock):
    server = Server(
        {
            f"{P}/": httpx.Response(200, text="Healthy"),
            f"{P}/inputs": json_response(200, {"inputs": ["a"]}),
            f"{P}/kickoff": json_response(200, {"kickoff_id": "k1"}),
            f"{P}/status/k1": httpx.Response(405),
            f"{P}/k1/status": json_response(200, {"status": "done", "result": {"output": "x"}}),
            f"{P}/resume": json_response(200, {"status": "resumed"}),
            f"{P}/stop/k1": json_response(200, {}),
            "/cb": httpx.Response(200),
        }
    )
    with client(server, clock) as c:
        assert c.health() >= 0.0
        assert [s.name for s in c.inputs()] == ["a"]
        assert c.kickoff({"a": "1"}, meta={"crewdash_request_id": "r"}) == "k1"
        status = c.status("k1")
        assert (status.state, status.result.output) == (RunState.COMPLETED, "x")
        assert c.status_route is StatusRoute.LEGACY
        assert c.resume("k1", "t", "fine", True).status == "resumed"
        c.stop("k1")
        c.answer_callback("https://crew.example.com/cb", "ok")
    assert json.loads(server.requests[2].content)["meta"] == {"crewdash_request_id": "r"}
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.requests)


def test_retries_sleep_on_the_clock(clock):
    server = Server({f"{P}/inputs": [httpx.Response(500), json_response(200, {"inputs": []})]})
    assert client(server, clock, retry=RetryPolicy(base=2.0, random=lambda: 1.0)).inputs() == []
    assert clock.sleeps == [2.0]


def test_errors_and_breaker(clock):
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    server = Server({f"{P}/inputs": httpx.Response(502), f"{P}/kickoff": httpx.Response(401)})
    c = client(server, clock, breaker=breaker, retry=RetryPolicy.none())
    with pytest.raises(ServerError):
        c.inputs()
    with pytest.raises(CircuitOpenError):
        c.inputs()
    clock.advance(breaker.cooldown)
    with pytest.raises(AuthenticationError):
        c.kickoff({})


def test_unknown_run(clock):
    with pytest.raises(NotFoundError):
        client(Server({}), clock).status("nope")
