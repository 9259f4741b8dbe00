"""One-shot commands with `[receiver]` enabled and its port held by another process (the
dashboard): they poll instead and say so in one line; no traceback, no OSError exit (issue 13).
Real processes (`python -m crewdash`) against the simulator."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

from cli_helpers import CliEnv, wait_paused


def _held_port() -> socket.socket:
    """A listening socket on a loopback port, as the dashboard's receiver holds it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


async def _crewdash(cli: CliEnv, *argv: str) -> tuple[int, str, str]:
    env = {**os.environ, "CREWDASH_CONFIG": str(cli.config), "CREWDASH_DATA_DIR": str(cli.data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_watch_and_resume_poll_when_the_receiver_port_is_taken(cli: CliEnv) -> None:
    held = _held_port()
    port = held.getsockname()[1]
    with cli.config.open("a") as f:
        f.write(f'\n[receiver]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n')
    try:
        started = await cli.run("kickoff", "review", "-i", "brief=B", "--json")
        assert started.code == 0, started.err
        kickoff_id = started.of_type("kickoff")[0]["kickoff_id"]
        await wait_paused(cli, kickoff_id)

        code, out, err = await _crewdash(
            cli, "resume", "review", kickoff_id, "--approve", "--feedback", "ok", "--json"
        )
        assert code == 0, err
        assert "Traceback" not in err and "Errno" not in err
        notes = [line for line in err.splitlines() if "receiver not started" in line]
        assert len(notes) == 1 and f"127.0.0.1:{port} is taken" in notes[0], err
        assert "polling" in notes[0]
        assert all(isinstance(json.loads(line), dict) for line in out.splitlines())

        code, out, err = await _crewdash(cli, "watch", "review", "--timeout", "30", "--json")
        assert code == 0, err
        assert "Traceback" not in err
        assert sum("receiver not started" in line for line in err.splitlines()) == 1
        assert json.loads(out.splitlines()[-1])["type"] == "summary"
    finally:
        held.close()
