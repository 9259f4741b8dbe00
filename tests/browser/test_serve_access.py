"""Who gets in to `crewdash serve`, over plain HTTP clients (no browser): beyond loopback the
page and its websocket need the access token (401 and a log line without it, never the token
in the log); `?token=` once becomes a cookie; a websocket from another site is refused; on
loopback without a token, only loopback Host names."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.browser.harness import ServeProcess
from tests.journeys.harness import SimProcess

pytestmark = pytest.mark.timeout(180)


async def _websocket_status(url: str, **headers: str) -> int:
    """The status the server answers a websocket upgrade with (101: a dashboard started)."""
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url, headers=headers, timeout=aiohttp.ClientWSTimeout())
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101


def websocket_status(url: str, **headers: str) -> int:
    return asyncio.run(_websocket_status(url, **headers))


@pytest.fixture
def config(sim: SimProcess, tmp_path: Path) -> Path:
    return sim.config(tmp_path / "config.toml", ["basic"])


def test_beyond_loopback_the_page_and_websocket_need_the_token(
    config: Path, tmp_path: Path
) -> None:
    server = ServeProcess(config, tmp_path / "data", "--host", "0.0.0.0")
    try:
        token = server.token
        assert token is not None and len(token) >= 16, server.output()
        base = f"http://127.0.0.1:{server.port}"
        ws = f"ws://127.0.0.1:{server.port}/ws"
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/").status_code == 401
            assert http.get("/static/js/textual.js").status_code == 401
            assert http.get("/?token=" + "x" * len(token)).status_code == 401
            assert websocket_status(ws) == 401
            assert websocket_status(ws + "?token=nope-nope-nope-nope") == 401
            assert server.sessions() == []  # nothing started for them
            # the token once: a cookie, and the address without it
            first = http.get("/?token=" + token + "&fontsize=14")
            assert first.status_code == 303
            assert first.headers["location"] == "/?fontsize=14"
            cookie = first.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            page = http.get("/", headers={"Cookie": f"crewdash_access={token}"})
            assert page.status_code == 200 and "textual-terminal" in page.text
            bearer = http.get("/", headers={"Authorization": f"Bearer {token}"})
            assert bearer.status_code == 200
        assert websocket_status(ws, Cookie=f"crewdash_access={token}") == 101
        assert (
            websocket_status(ws, Cookie=f"crewdash_access={token}", Origin="http://evil.example")
            == 403
        )
    finally:
        server.close()
    output = server.output()
    assert "401 GET / from 127.0.0.1: no valid access token" in output
    assert "401 GET /ws from 127.0.0.1: no valid access token" in output
    assert output.count(token) == 1, "the token is printed once, and never logged"


def test_a_token_from_the_environment_is_required_and_never_printed(
    config: Path, tmp_path: Path
) -> None:
    token = "env-token-0123456789abcdef"
    server = ServeProcess(config, tmp_path / "data", env={"CREWDASH_SERVE_TOKEN": token})
    try:
        assert server.token is None
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/").status_code == 401
            assert http.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        server.close()
    assert token not in server.output()


def test_on_loopback_without_a_token_only_loopback_names_get_in(
    config: Path, tmp_path: Path
) -> None:
    server = ServeProcess(config, tmp_path / "data")
    try:
        assert server.token is None
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/").status_code == 200
            assert http.get("/", headers={"Host": f"localhost:{server.port}"}).status_code == 200
            # a DNS name rebound to 127.0.0.1 by a web page elsewhere
            rebound = http.get("/", headers={"Host": f"rebound.example:{server.port}"})
            assert rebound.status_code == 403
        ws = f"ws://127.0.0.1:{server.port}/ws"
        assert websocket_status(ws, Origin="http://evil.example") == 403
    finally:
        server.close()
    assert "403 GET / from 127.0.0.1: a Host that is not this machine" in server.output()


def test_bad_options_get_one_line(config: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    empty = tmp_path / "empty.toml"
    empty.write_text("")
    for path, args, words in (
        (config, ["--port", "70000"], "--port 70000 is not a port"),
        (config, ["--public-url", "ftp://x"], "--public-url must start with http://"),
        (empty, [], f"no crews in {empty}"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "crewdash", "--config", str(path), "serve", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"crewdash: {words}"), done.stderr
