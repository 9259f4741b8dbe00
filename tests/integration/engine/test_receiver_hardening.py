"""The receiver's hardening (issue 13) over real loopback: timestamps, replays, connection
lifetimes and caps, JSON depth and lone surrogates, one log line per refusal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crewdash.core.receiver.server import Receiver, sign
from tests.integration.engine.receivers import running_receiver

BEARER = "receiver-bearer-hardening-0123456789"
FLOW_SECRET = "flow-signing-secret-hardening"
TIMEOUT = 1.0  # the connection lifetime these tests give the receiver


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, dict[str, list[Any]]]]:
    async with running_receiver(
        BEARER, FLOW_SECRET, connection_timeout=TIMEOUT, max_connections=20
    ) as running:
        yield running


def _signed(body: bytes, stamp: str) -> dict[str, str]:
    return {
        "X-CrewAI-Timestamp": stamp,
        "X-CrewAI-Signature": sign(FLOW_SECRET, stamp, body),
        "Content-Type": "application/json",
    }


async def test_only_integer_timestamps_within_the_window_pass(receiver) -> None:
    rec, seen = receiver
    url = rec.url + "/hooks/approvals/flow"
    now = int(time.time())
    body = json.dumps({"event_type": "new_request", "id": "hr-ts"}).encode()
    bad = [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "infinity",
        "1e400",
        f"{now}.0",
        f"{now}e0",
        f" {now}",
        f"+{now}",
        f"{now}\t",
        "9" * 40,
        f"{now:_}",
        str(now + 360),  # past the 300-s window even when this loop takes a minute
        "-1",
        "",
        "0x10",
        "١٢٣",
    ]
    async with httpx.AsyncClient() as http:
        for stamp in bad:
            try:
                headers = _signed(body, stamp)
                r = await http.post(url, content=body, headers=headers)
            except (httpx.LocalProtocolError, UnicodeEncodeError):
                continue  # the client itself refuses to send such a header
            assert r.status_code == 401, stamp
        assert seen["flow"] == []
        ok = await http.post(url, content=body, headers=_signed(body, str(now)))
        assert ok.status_code == 202
    assert len(seen["flow"]) == 1


async def test_a_replayed_delivery_is_refused(receiver) -> None:
    rec, seen = receiver
    url = rec.url + "/hooks/approvals/flow"
    body = json.dumps({"event_type": "new_request", "id": "hr-replay"}).encode()
    headers = _signed(body, str(int(time.time())))
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=body, headers=headers)).status_code == 202
        again = await http.post(url, content=body, headers=headers)
        assert again.status_code == 409
        assert "replay" in again.json()["error"]
    assert len(seen["flow"]) == 1


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """Await the server closing the connection (EOF or reset); the seconds it took."""
    started = time.monotonic()
    with contextlib.suppress(ConnectionResetError):
        await asyncio.wait_for(reader.read(), seconds)
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # idle, never a request
        b"POST /hooks/review/human-input HTTP/1.1\r\nHost: x\r\n",  # headers never end
        b"POST /hooks/review/human-input HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        + f"Authorization: Bearer {BEARER}\r\n\r\n{{".encode(),  # the body never ends
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # kept alive after an answer, then idle
    ],
    ids=["idle", "slow-headers", "slow-body", "keep-alive"],
)
async def test_no_connection_outlives_the_timeout(receiver, sent: bytes) -> None:
    rec, seen = receiver
    reader, writer = await asyncio.open_connection("127.0.0.1", rec.port)
    writer.write(sent)
    await writer.drain()
    took = await _closed_within(reader, TIMEOUT + 5)
    writer.close()
    assert took <= TIMEOUT + 0.5
    assert seen["crew"] == []


async def test_connections_beyond_the_cap_are_closed_at_once(receiver) -> None:
    rec, _ = receiver
    opened = [await asyncio.open_connection("127.0.0.1", rec.port) for _ in range(30)]
    extra = opened[20:]
    for reader, _ in extra:
        assert await _closed_within(reader, TIMEOUT) < TIMEOUT / 2
    for _, writer in opened:
        writer.close()
    assert rec.connections_refused == 10


@pytest.mark.parametrize(
    "body",
    [
        b'{"kickoff_id": "k", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"kickoff_id": "k", "x": ' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}",
        b'{"kickoff_id": "k", "prompt": "\\ud800"}',
        b'{"kickoff_id": "k", "\\udfff": 1}',
        b'{"kickoff_id": "k", "prompt": "\xff\xfe"}',
    ],
    ids=["deep-lists", "deep-objects", "lone-surrogate", "surrogate-key", "bad-utf8"],
)
async def test_deep_or_insane_json_is_refused_before_a_handler(
    receiver, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    rec, seen = receiver
    caplog.set_level(logging.DEBUG)
    url = rec.url + "/hooks/review/human-input"
    async with httpx.AsyncClient() as http:
        r = await http.post(url, content=body, headers={"Authorization": f"Bearer {BEARER}"})
        assert r.status_code == 400
        assert (await http.get(rec.url + "/")).status_code == 200
    assert seen["crew"] == []
    assert all(record.exc_info is None for record in caplog.records)


async def test_each_refusal_is_one_log_line_rate_limited_and_masked(
    receiver, caplog: pytest.LogCaptureFixture
) -> None:
    rec, _ = receiver
    caplog.set_level(logging.DEBUG, logger="crewdash.core.receiver.server")
    url_token_path = "/hooks/review/task/0123456789abcdef0123456789abcdef"
    async with httpx.AsyncClient() as http:
        r = await http.post(rec.url + url_token_path, json={})
        assert r.status_code == 401
        name = "crewdash.core.receiver.server"
        lines = [r.getMessage() for r in caplog.records if r.name == name]
        assert len(lines) == 1
        assert "wrong webhook URL token" in lines[0] and "127.0.0.1:" in lines[0]
        assert "POST /hooks/review/task/****" in lines[0]
        assert "0123456789abcdef" not in lines[0]
        for _ in range(200):
            await http.post(rec.url + "/hooks/review/human-input", json={})
    lines = [r.getMessage() for r in caplog.records if r.name == "crewdash.core.receiver.server"]
    assert len(lines) <= 1 + 2 * 10 + 1  # ≤ 10 a second (the loop may straddle 2-3 seconds)
    assert all(record.exc_info is None for record in caplog.records)
