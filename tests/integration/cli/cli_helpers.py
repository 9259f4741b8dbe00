"""Helpers of the CLI integration tests: `crewdash.cli.main([...])` in-process against the
simulator over loopback, with a config file of its crews and a throwaway data dir.

`main()` runs its own event loop (`asyncio.run`), so the tests run it in a worker thread
(`asyncio.to_thread`) while the simulator serves from the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crewdash.cli import main
from crewdash.commands.sim import config_text, write_config

CREWS = ("basic", "review", "flow", "legacy", "failing")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every stdout line parsed as JSON: fails if any line is not a JSON object."""
        parsed = [json.loads(line) for line in self.out.splitlines()]
        assert all(isinstance(obj, dict) for obj in parsed)
        return parsed

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("type") == kind]


@dataclass
class CliEnv:
    server: Any
    config: Path
    data_dir: Path
    capsys: pytest.CaptureFixture[str]
    stats: Callable[[Any], Any]

    async def run(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = await asyncio.to_thread(main, list(argv))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    async def sim_stats(self) -> dict[str, Any]:
        return await self.stats(self.server)

    def kickoff_requests(self, stats: dict[str, Any], crew: str) -> int:
        routes = stats["requests"].get(crew, {})
        return sum(sum(codes.values()) for route, codes in routes.items() if "kickoff" in route)


def write_crews(path: Path, server: Any, *, tokens: dict[str, str] | None = None) -> None:
    rows = [
        (
            name,
            server.crew_url(name),
            (tokens or {}).get(name, server.token(name)),
            "flow" if name == "flow" else "crew",
        )
        for name in CREWS
    ]
    write_config(str(path), config_text(rows))


def cli_env(
    server: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim_stats: Callable[[Any], Any],
) -> CliEnv:
    """A config of `server`'s crews and a throwaway data dir, both in the environment."""
    config = tmp_path / "config.toml"
    data_dir = tmp_path / "data"
    write_crews(config, server)
    monkeypatch.setenv("CREWDASH_CONFIG", str(config))
    monkeypatch.setenv("CREWDASH_DATA_DIR", str(data_dir))
    return CliEnv(server, config, data_dir, capsys, sim_stats)


async def wait_paused(cli: CliEnv, kickoff_id: str, *, seconds: float = 30.0) -> None:
    """Until the simulator's own status of a `review` run says it waits for a human (seen
    from outside crewdash: there is no event to await)."""
    import httpx

    url = cli.server.crew_url("review") + f"/status/{kickoff_id}"
    headers = {"Authorization": f"Bearer {cli.server.token('review')}"}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with httpx.AsyncClient() as http:
        while loop.time() < deadline:
            if "human" in (await http.get(url, headers=headers)).json()["status"].lower():
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the run never paused")
