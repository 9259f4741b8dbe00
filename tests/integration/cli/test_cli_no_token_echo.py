"""A server that echoes the bearer token in every field it can (the simulator's `echo_token`
fault): the token must be found nowhere in what the headless commands print (text and --json),
in the store, its WAL, the logs or the exports. And `crews list` masks a URL's query (issue 13)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest
from cli_helpers import CREWS, CliEnv

from crewdash.commands.sim import config_text, write_config

QUERY_KEY = "qk-PLANTED-in-the-url-5b1f"


def _secret_everywhere(cli: CliEnv, token: str, texts: list[str], tmp_path: Path) -> list[str]:
    """Where `token` was found: printed texts, every file under tmp_path (store, WAL, logs,
    exports, config excepted)."""
    found = [f"output #{i}" for i, text in enumerate(texts) if token in text]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != cli.config and token.encode() in path.read_bytes():
            found.append(str(path.relative_to(tmp_path)))
    return found


async def _paused(cli: CliEnv, kickoff_id: str) -> None:
    url = cli.server.crew_url("review") + f"/status/{kickoff_id}"
    headers = {"Authorization": f"Bearer {cli.server.token('review')}"}
    async with httpx.AsyncClient() as http:
        for _ in range(400):
            if "human" in (await http.get(url, headers=headers)).json()["status"].lower():
                return
            await asyncio.sleep(0.025)
    raise AssertionError("the run never paused")


async def test_a_token_echoed_by_the_server_is_printed_stored_logged_and_exported_nowhere(
    cli: CliEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = cli.server.token("review")
    cli.server.app.configure("review", faults={"echo_token": True})
    texts: list[str] = []

    async def run(*argv: str) -> tuple[int, str]:
        result = await cli.run(*argv)
        texts.extend((result.out, result.err))
        return result.code, result.out

    code, out = await run("kickoff", "review", "-i", "brief=B", "--json")
    assert code == 0, texts[-1]
    kickoff_id = next(
        r["kickoff_id"] for r in map(json.loads, out.splitlines()) if r["type"] == "kickoff"
    )
    await _paused(cli, kickoff_id)
    for fmt in ((), ("--json",)):
        await run("status", "review", kickoff_id, *fmt)
    await run("resume", "review", kickoff_id, "--reject", "--feedback", "again", "--json")
    await _paused(cli, kickoff_id)
    await run("resume", "review", kickoff_id, "--approve", "--feedback", "ok")
    await run("watch", "review", "--timeout", "30")
    await run("stop", "review", kickoff_id)
    await run("stop", "review", kickoff_id, "--json")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"brief": "one"}\n{"brief": "two"}\n')
    await run("batch", "review", str(rows), "--json")
    for fmt in ((), ("--json",)):
        await run("crews", "test", "review", *fmt)
    # Every request refused with a 422 whose `details.missing_inputs` echo the token.
    cli.server.app.configure("review", faults={"refuse_rate": 1.0})
    for fmt in ((), ("--json",)):
        await run("kickoff", "review", "-i", "brief=B", *fmt)
        await run("status", "review", kickoff_id, *fmt)
        await run("stop", "review", kickoff_id, *fmt)
        await run("resume", "review", kickoff_id, "--approve", "--feedback", "ok", *fmt)
        await run("crews", "test", "review", *fmt)
    await run("batch", "review", str(rows), "--json")
    cli.server.app.configure("review", faults={"refuse_rate": 0.0, "echo_token_in_id": True})
    await run("kickoff", "review", "-i", "brief=C", "--json")
    await run("kickoff", "review", "-i", "brief=D")
    await run("runs", "--crew", "review", "--json")
    await run("watch", "review", "--timeout", "3", "--json")
    for fmt in ("json", "csv", "markdown"):
        await run("export", "--crew", "review", "--format", fmt)
        await run("export", "--crew", "review", "--format", fmt, "-o", str(tmp_path / f"x.{fmt}"))
    texts.extend(record.getMessage() for record in caplog.records)

    stats = await cli.sim_stats()
    assert stats["faults"]["review"]["echo_token"] >= 20  # the server did echo, a lot
    assert "****" in "".join(texts)  # ... and what it echoed was masked
    assert _secret_everywhere(cli, token, texts, tmp_path) == []


async def test_crews_list_masks_a_query_in_a_crew_url(cli: CliEnv) -> None:
    rows = [
        (name, cli.server.crew_url(name), cli.server.token(name), "crew")
        for name in CREWS
        if name != "flow"
    ]
    keyed = f"https://keyed.example.com/x?api_key={QUERY_KEY}&v=2"
    rows.append(("keyed", keyed, "t0k3n-x", "crew"))
    write_config(str(cli.config), config_text(rows))
    for fmt in ((), ("--json",)):
        result = await cli.run("crews", "list", *fmt)
        assert result.code == 0, result.err
        assert QUERY_KEY not in result.out + result.err
        assert "https://keyed.example.com/x?api_key=****&v=****" in result.out
