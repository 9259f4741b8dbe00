"""What a server answers is redacted before anyone reads it: a token it echoes in a status,
plain, JSON-escaped, in a key or another crew's, comes back masked; an answer that holds none
comes back as sent (and is not walked: `may_hold_secret`)."""

from __future__ import annotations

import json

import httpx
import pytest

from crewdash.aop import AsyncCrewClient, Secret
from crewdash.aop.redact import MASK, may_hold_secret
from tests.unit.aop.conftest import BASE, TOKEN, Server

P = "/prefix"
OTHER = "other-crew-token-9876543210"  # a token this process holds for another crew
_ = Secret(OTHER)  # held: every Secret made is known to the redactor


def escaped(text: str) -> str:
    """`text` as JSON may spell it: every character a \\u escape."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def raw(body: str) -> httpx.Response:
    return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})


def task_body(task: str) -> str:
    """A status answer's text, `task` written into it as is (escapes included)."""
    return '{"status": "running", "current_task": "' + task + '"}'


BODIES = {
    "plain": task_body("echo " + TOKEN),
    "escaped": task_body("echo " + escaped(TOKEN)),
    "other crew's": task_body("echo " + OTHER),
    "in a key": '{"status": "running", "current_task": "t", "result": {"' + TOKEN + '": 1}}',
    "utf-16": None,  # below: the plain body as UTF-16 (json.loads reads it too)
}


@pytest.mark.parametrize("case", list(BODIES))
async def test_a_token_the_server_echoes_comes_back_masked(clock, case: str) -> None:
    body = BODIES[case]
    if body is None:
        answer = httpx.Response(200, content=BODIES["plain"].encode("utf-16"))
    else:
        answer = raw(body)
    client = AsyncCrewClient(BASE, TOKEN, clock=clock, transport=Server({
        f"{P}/status/k": answer}).transport())  # fmt: skip
    status = await client.status("k")
    seen = json.dumps([status.current_task, status.raw_state, repr(status)])
    assert TOKEN not in seen and OTHER not in seen
    if case != "in a key":
        assert status.current_task == f"echo {MASK}"


async def test_an_answer_without_a_token_comes_back_as_sent(clock) -> None:
    body = '{"status": "running", "current_task": "caf\\u00e9 write", "progress": null}'
    client = AsyncCrewClient(BASE, TOKEN, clock=clock, transport=Server({
        f"{P}/status/k": raw(body)}).transport())  # fmt: skip
    status = await client.status("k")
    assert status.current_task == "café write"


@pytest.mark.parametrize(
    ("body", "may"),
    [
        (b'{"a": "nothing here"}', False),
        (task_body(TOKEN).encode(), True),
        (task_body("x" + OTHER + "x").encode(), True),
        (b'{"a": "\\u0074ok"}', True),  # an escape: its strings are not pieces of the text
        ('{"a": "é"}'.encode("utf-16"), True),  # not UTF-8 text: never vouched for
        ('{"a": "é ünïcode"}'.encode(), False),
    ],
)
def test_may_hold_secret(body: bytes, may: bool) -> None:
    Secret(TOKEN)  # held by this process, as a crew's client holds its token
    assert may_hold_secret(body) is may
