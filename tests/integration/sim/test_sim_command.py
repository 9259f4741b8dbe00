"""`crewdash sim` as a person runs it: a real process, real port, Ctrl+C (SIGINT) to stop."""

from __future__ import annotations

import asyncio
import re
import signal
import stat
import sys
import tomllib
from pathlib import Path

import httpx

from crewdash.cli import main


async def test_sim_command_serves_prints_tokens_writes_config_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    config = tmp_path / "crewdash.toml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crewdash",
        "sim",
        "--port",
        "0",
        "--speed",
        "20",
        "--seed",
        "5",
        "--write-config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    try:
        while not lines or "Ctrl+C" not in lines[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "the simulator exited early"
            lines.append(line.decode())
        text = "".join(lines)
        assert re.search(r"at http://127\.0\.0\.1:\d+", text)
        data = tomllib.loads(config.read_text())
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert set(data["crews"]) == {
            "research",
            "trip-planner",
            "content-review",
            "expense-approval",
            "flaky-scraper",
            "quarterly-forecast",
        }
        research = data["crews"]["research"]
        assert research["kind"] == "crew" and data["crews"]["expense-approval"]["kind"] == "flow"
        assert research["token"] in text and research["url"] in text
        async with httpx.AsyncClient() as http:
            r = await http.get(
                research["url"] + "/", headers={"Authorization": f"Bearer {research['token']}"}
            )
        assert r.text == "Healthy"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 20)
    err = (await proc.stderr.read()).decode()
    assert rc == 0 and "Traceback" not in err, err


def test_sim_command_rejects_an_unknown_scenario(capsys) -> None:
    assert main(["sim", "--scenario", "nope-not-here"]) == 2
    assert "no built-in scenario or file" in capsys.readouterr().err


def test_sim_command_refuses_a_busy_port(capsys) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sim", "--port", str(port)]) == 1
    assert "cannot serve" in capsys.readouterr().err
