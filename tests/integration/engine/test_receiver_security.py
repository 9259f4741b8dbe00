"""The webhook receiver over real loopback HTTP: what it accepts, what it refuses, and that no
body brings it down."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crewdash.core.receiver.server import Receiver, sign
from tests.integration.engine.receivers import running_receiver

BEARER = "receiver-bearer-token-0123456789"
FLOW_SECRET = "flow-signing-secret"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, dict[str, list[Any]]]]:
    async with running_receiver(BEARER, FLOW_SECRET) as running:
        yield running


def signed(body: bytes, ts: float | None = None, secret: str = FLOW_SECRET) -> dict[str, str]:
    stamp = str(int(ts if ts is not None else time.time()))
    return {
        "X-CrewAI-Timestamp": stamp,
        "X-CrewAI-Signature": sign(secret, stamp, body),
        "Content-Type": "application/json",
    }


async def still_serving(http: httpx.AsyncClient, rec: Receiver) -> None:
    assert (await http.get(rec.url + "/")).status_code == 200


async def test_crew_hitl_bearer_is_required_and_checked(receiver) -> None:
    rec, seen = receiver
    url = rec.url + "/hooks/review/human-input"
    body = {"kickoff_id": "k1", "task_id": "t1", "prompt": "ok?"}
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json=body)).status_code == 401
        wrong = {"Authorization": "Bearer " + BEARER[:-1] + "x"}
        assert (await http.post(url, json=body, headers=wrong)).status_code == 401
        basic = {"Authorization": "Basic " + BEARER}
        assert (await http.post(url, json=body, headers=basic)).status_code == 401
        assert seen["crew"] == []
        good = {"Authorization": "Bearer " + BEARER}
        assert (await http.post(url, json=body, headers=good)).status_code == 202
        await still_serving(http, rec)
    assert seen["crew"] == [("review", body)]


async def test_flow_hitl_signature_and_window(receiver) -> None:
    rec, seen = receiver
    url = rec.url + "/hooks/approvals/flow"
    body = json.dumps({"event_type": "new_request", "id": "hr-1"}).encode()
    async with httpx.AsyncClient() as http:
        bad_sig = signed(body, secret="not-the-secret")
        assert (await http.post(url, content=body, headers=bad_sig)).status_code == 401
        stale = signed(body, ts=time.time() - 301)
        assert (await http.post(url, content=body, headers=stale)).status_code == 401
        tampered = signed(body)
        tampered_body = body.replace(b"hr-1", b"hr-2")
        r = await http.post(url, content=tampered_body, headers=tampered)
        assert r.status_code == 401
        assert (await http.post(url, content=body)).status_code == 401  # unsigned
        assert seen["flow"] == []
        assert (await http.post(url, content=body, headers=signed(body))).status_code == 202
        await still_serving(http, rec)
    assert seen["flow"] == [("approvals", {"event_type": "new_request", "id": "hr-1"})]


async def test_oversize_and_malformed_bodies_are_refused_without_harm(receiver) -> None:
    rec, seen = receiver
    url = rec.url + "/hooks/review/human-input"
    auth = {"Authorization": "Bearer " + BEARER}
    async with httpx.AsyncClient() as http:
        big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
        assert (await http.post(url, content=big, headers=auth)).status_code == 413

        async def chunks():  # no Content-Length: the cap applies while streaming
            for _ in range(20):
                yield b" " * 65536

        r = await http.post(url, content=chunks(), headers=auth)
        assert r.status_code == 413
        for bad in (b"not json", b"[1, 2]", b"\xff\xfe\x00", b"", b'{"a": '):
            assert (await http.post(url, content=bad, headers=auth)).status_code == 400
        flow = rec.url + "/hooks/approvals/flow"
        junk = b"\x00garbage"
        assert (await http.post(flow, content=junk, headers=signed(junk))).status_code == 400
        await still_serving(http, rec)
    assert seen["crew"] == [] and seen["flow"] == []


async def test_task_webhooks_need_their_url_token_and_streams_are_sorted(receiver) -> None:
    rec, seen = receiver
    hooks = rec.webhooks_for("review")
    assert hooks is not None and hooks.task_url.startswith(rec.url + "/hooks/review/task/")
    async with httpx.AsyncClient() as http:
        forged = rec.url + "/hooks/review/task/" + "0" * 32
        assert (await http.post(forged, json={"kickoff_id": "k"})).status_code == 401
        assert (await http.post(hooks.task_url, json={"kickoff_id": "k"})).status_code == 200
        stream = rec.url + "/hooks/review/events"
        events = {
            "events": [
                {
                    "id": "2",
                    "execution_id": "k",
                    "timestamp": "2025-01-01T00:00:02Z",
                    "type": "task_completed",
                    "data": {"n": 2},
                },
                {
                    "id": "1",
                    "execution_id": "k",
                    "timestamp": "2025-01-01T00:00:01Z",
                    "type": "agent_step",
                    "data": {"n": 1},
                },
            ]
        }
        assert (await http.post(stream, json=events)).status_code == 401
        auth = {"Authorization": "Bearer " + BEARER}
        assert (await http.post(stream, json=events, headers=auth)).status_code == 200
        bad = {"events": "nope"}
        assert (await http.post(stream, json=bad, headers=auth)).status_code == 400
        await still_serving(http, rec)
    ns = [p.get("n") for _, p in seen["delivery"] if p.get("type")]
    assert ns == [1, 2]
    assert seen["delivery"][0] == ("review", {"kickoff_id": "k", "webhook": "task"})


async def test_the_token_is_not_in_what_a_kickoff_shows(receiver) -> None:
    rec, _ = receiver
    hiw = rec.human_input_webhook_for("review")
    assert hiw is not None and BEARER not in repr(hiw) and hiw.token == BEARER
    assert BEARER not in repr(rec.webhooks_for("review"))
