"""Exactly one answer per human-input request (issue 13): two real `crewdash resume`
processes sharing one store answer the same pause of a crew whose task re-runs fast (a
simulator at 1000x: a re-run takes about a millisecond). The server must get one answer; the
other process is told who answered, how and when, and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CliEnv, cli_env, wait_paused

TRIALS = 20


@pytest.fixture
async def fast_cli(
    sim_app_factory: Callable[..., Any],
    sim_serve: Any,
    sim_stats: Callable[[Any], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[CliEnv]:
    app = sim_app_factory("testing", speed=1000.0)
    async with sim_serve(app) as server:
        yield cli_env(server, tmp_path, capsys, monkeypatch, sim_stats)


async def _start(cli: CliEnv, *argv: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "CREWDASH_CONFIG": str(cli.config), "CREWDASH_DATA_DIR": str(cli.data_dir)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


@pytest.mark.timeout(300)
async def test_two_processes_answer_one_pause_once(fast_cli: CliEnv) -> None:
    cli = fast_cli
    double = 0
    losers: list[tuple[int, str, str]] = []  # (exit code, words in --json, stderr)
    for trial in range(TRIALS):
        started = await cli.run("kickoff", "review", "-i", f"brief=B{trial}", "--json")
        assert started.code == 0, started.err
        kickoff_id = started.of_type("kickoff")[0]["kickoff_id"]
        await wait_paused(cli, kickoff_id)
        common = ("resume", "review", kickoff_id, "--attempt", "1", "--json")
        procs = [
            await _start(cli, *common, "--reject", "--feedback", f"shorter {trial}"),
            await _start(cli, *common, "--approve", "--feedback", "fine"),
        ]
        async with asyncio.timeout(60):
            results = [await p.communicate() for p in procs]
        answers = []
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err.decode()
            assert "Traceback" not in err.decode()
            [record] = [json.loads(line) for line in out.decode().splitlines()]
            answers.append((record, err.decode()))
        stats = await cli.sim_stats()
        accepted = [
            r
            for r in stats["resumes"]
            if r["body"]["execution_id"] == kickoff_id and r["status"] == 200
        ]
        double += len(accepted) > 1
        outcomes = sorted(a["outcome"] for a, _ in answers)
        assert outcomes == ["accepted", "answered_elsewhere"], answers
        [(loser, loser_err)] = [(a, e) for a, e in answers if a["outcome"] != "accepted"]
        losers.append((0, loser["server_answer"], loser_err))  # exit code asserted above
        assert "someone else answered first" in loser["server_answer"]
    assert double == 0
    # A third operator, in words, on the round answered last: who, how and when; exit 0.
    late = await _start(cli, "resume", "review", kickoff_id, "--attempt", "1", "--approve")
    out, err = await late.communicate()
    assert late.returncode == 0, err.decode()
    assert "someone else answered first" in out.decode() and "Traceback" not in err.decode()
    print(f"\n{TRIALS} trials, double answers: {double}")
    print(f"a loser in --json: {losers[0][1]}")
    print(f"a late one in words (exit {late.returncode}): {out.decode().strip()}")
