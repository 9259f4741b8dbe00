"""The token never appears in an error's str, repr, args or traceback, in a log record, or in
the client's repr — even when the server (or a proxy) echoes it back."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

from crewdash.aop import (
    AlreadyAnsweredError,
    AOPError,
    AsyncCrewClient,
    AuthenticationError,
    CircuitBreaker,
    CircuitOpenError,
    ConnectionFailedError,
    CrewClient,
    NotFoundError,
    NotPausedError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    Secret,
    ServerError,
    UnsupportedError,
    ValidationError,
)
from tests.unit.aop.conftest import BASE, TOKEN, Server, json_response

P = "/prefix"
ECHO = {
    "error": f"bad token {TOKEN}",
    "message": f"Authorization: Bearer {TOKEN}",
    "details": {"missing_inputs": ["a"]},
}

CASES = [
    ("inputs", (), {f"{P}/inputs": json_response(401, ECHO)}, AuthenticationError),
    ("inputs", (), {}, NotFoundError),
    ("kickoff", ({},), {f"{P}/kickoff": json_response(422, ECHO)}, ValidationError),
    ("resume", ("k", "t", "f", True), {f"{P}/resume": json_response(400, ECHO)}, NotPausedError),
    ("stop", ("k",), {f"{P}/stop/k": json_response(405, ECHO)}, UnsupportedError),
    (
        "answer_callback",
        (f"https://crew.example.com/cb?t={TOKEN}", "ok"),
        {"/cb": json_response(409, ECHO)},
        AlreadyAnsweredError,
    ),
    (
        "inputs",
        (),
        {f"{P}/inputs": httpx.Response(429, json=ECHO, headers={"Retry-After": "999"})},
        RateLimitedError,
    ),
    ("inputs", (), {f"{P}/inputs": json_response(503, ECHO)}, ServerError),
    ("inputs", (), {f"{P}/inputs": httpx.ReadTimeout(f"timeout {TOKEN}")}, RequestTimeoutError),
    ("inputs", (), {f"{P}/inputs": httpx.ConnectError(f"refused {TOKEN}")}, ConnectionFailedError),
    (
        "inputs",
        (),
        {f"{P}/inputs": httpx.Response(200, text=f"<html>{TOKEN}</html>")},
        ProtocolError,
    ),
    (
        "status",
        ("k",),
        {f"{P}/status/k": json_response(200, {"status": 1, "e": TOKEN})},
        ProtocolError,
    ),
]


def _assert_clean(error: BaseException, records: list[logging.LogRecord]) -> None:
    texts = [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(error)),
        *(record.getMessage() for record in records),
        *(logging.Formatter().format(record) for record in records),
    ]
    for text in texts:
        assert TOKEN not in text


@pytest.mark.parametrize(
    ("method", "args", "routes", "error"), CASES, ids=[c[3].__name__ for c in CASES]
)
async def test_no_error_carries_the_token(clock, caplog, method, args, routes, error):
    caplog.set_level(logging.DEBUG)
    server = Server(routes)
    client = AsyncCrewClient(
        BASE, TOKEN, clock=clock, transport=server.transport(), retry=RetryPolicy(max_attempts=2)
    )
    with pytest.raises(error) as caught:
        await getattr(client, method)(*args)
    assert server.requests[0].headers.get("Authorization") == f"Bearer {TOKEN}"  # it was sent
    _assert_clean(caught.value, caplog.records)
    assert TOKEN not in repr(client) and TOKEN not in str(client)


async def test_circuit_open_error_and_the_breaker_carry_no_token(clock, caplog):
    caplog.set_level(logging.DEBUG)
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    client = AsyncCrewClient(
        BASE,
        Secret(TOKEN),
        clock=clock,
        breaker=breaker,
        transport=Server({f"{P}/": json_response(500, ECHO)}).transport(),
    )
    with pytest.raises(ServerError):
        await client.health()
    with pytest.raises(CircuitOpenError) as caught:
        await client.health()
    _assert_clean(caught.value, caplog.records)
    assert TOKEN not in repr(client.breaker)


def test_every_error_class_is_covered():
    covered = {case[3] for case in CASES} | {CircuitOpenError}
    taxonomy = {cls for cls in _subclasses(AOPError) if cls.__module__ == "crewdash.aop.errors"}
    assert covered == taxonomy  # (other tests may define subclasses of their own)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_the_sync_client_repr_has_no_token():
    client = CrewClient(BASE, TOKEN)
    assert TOKEN not in repr(client) and TOKEN not in str(vars(client).get("_secret"))
    client.close()
