"""What the headless commands say must be true: short kickoff ids as the dashboard shows them
(issue 11 #10), the progress and duration of finished and re-attached runs, the time of each
progress line (#8), and only the crews asked about (#7c). Against the simulator."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import CliEnv, cli_env

from crewdash.core.store.database import store_path


async def _kickoff(cli: CliEnv, crew: str, *inputs: str) -> str:
    argv = ["kickoff", crew]
    for item in inputs:
        argv += ["-i", item]
    result = await cli.run(*argv, "--json")
    assert result.code == 0, result.err
    return result.of_type("kickoff")[0]["kickoff_id"]


def _short(kickoff_id: str) -> str:
    return kickoff_id.replace("-", "")[:8]  # as the dashboard shows it (tui.format.short_id)


async def _server_state(cli: CliEnv, crew: str, kickoff_id: str, until: set[str]) -> str:
    """Ask the simulator itself (not crewdash) until the run is in one of `until`."""
    url = cli.server.crew_url(crew) + f"/status/{kickoff_id}"
    headers = {"Authorization": f"Bearer {cli.server.token(crew)}"}
    async with httpx.AsyncClient() as http:
        for _ in range(400):
            state = (await http.get(url, headers=headers)).json()["status"]
            if state in until:
                return str(state)
            await asyncio.sleep(0.025)
    raise AssertionError(f"the run never reached {until}")


def _set_kickoff_ids(cli: CliEnv, crew: str, ids: list[str]) -> None:
    """Give the store's runs of `crew` these kickoff ids, oldest first (to make prefixes
    collide, which random UUIDs rarely do)."""
    conn = sqlite3.connect(store_path(cli.data_dir))
    try:
        rows = conn.execute(
            "SELECT local_id FROM runs WHERE crew = ? ORDER BY created_at", (crew,)
        ).fetchall()
        for (local_id,), kickoff_id in zip(rows, ids, strict=True):
            conn.execute(
                "UPDATE runs SET kickoff_id = ? WHERE local_id = ?", (kickoff_id, local_id)
            )
        conn.commit()
    finally:
        conn.close()


# --- #10: the 8-character id the dashboard shows ---------------------------------------------


async def test_status_stop_and_resume_take_the_short_id_the_dashboard_shows(cli: CliEnv) -> None:
    done = await cli.run("kickoff", "basic", "-i", "topic=T", "--wait")
    assert done.code == 0, done.err
    kickoff_id = done.out.splitlines()[0]

    status = await cli.run("status", "basic", _short(kickoff_id), "--json")
    assert status.code == 0, status.err
    assert status.records[0]["kickoff_id"] == kickoff_id
    assert status.records[0]["state"] == "completed"
    prefix = await cli.run("status", "basic", kickoff_id[:6].upper())  # 6 characters, any case
    assert prefix.code == 0 and f"basic {kickoff_id}: completed" in prefix.out

    stop = await cli.run("stop", "basic", _short(kickoff_id))
    assert stop.code == 2 and f"run {kickoff_id} was not stopped" in stop.err

    paused = await _kickoff(cli, "review", "brief=B")
    await _server_state(cli, "review", paused, {"Pending Human Input", "pending_human_input"})
    answer = await cli.run(
        "resume", "review", _short(paused), "--approve", "--feedback", "ok", "--json"
    )
    assert answer.code == 0, answer.err
    assert answer.records[0]["kickoff_id"] == paused
    (resume,) = (await cli.sim_stats())["resumes"]
    assert resume["body"]["execution_id"] == paused  # the full id went to the server


async def test_an_ambiguous_or_unknown_short_id_is_said_so(cli: CliEnv) -> None:
    for n in range(3):
        await _kickoff(cli, "basic", f"topic={n}")
    _set_kickoff_ids(
        cli,
        "basic",
        [
            "1a31dd98-0000-4000-8000-000000000001",
            "1a31dd98-0000-4000-8000-000000000002",
            "2b000000-0000-4000-8000-000000000003",
        ],
    )
    before = (await cli.sim_stats())["requests_total"]

    ambiguous = await cli.run("status", "basic", "1a31dd98", "--json")
    assert ambiguous.code == 2
    (error,) = ambiguous.records
    assert error["kind"] == "ambiguous_id"
    assert "1a31dd98-0000-4000-8000-000000000001" in error["message"]
    assert "1a31dd98-0000-4000-8000-000000000002" in error["message"]
    assert "2b000000" not in error["message"]

    unknown = await cli.run("stop", "basic", "ffffff12")
    assert unknown.code == 2
    assert "no run of crew basic in the local store has a kickoff id starting with" in unknown.err

    short = await cli.run("status", "basic", "1a31d")
    assert short.code == 2 and "at least 6 characters" in short.err

    other_crew = await cli.run("status", "review", "2b000000")  # prefixes are per crew
    assert other_crew.code == 2 and "no run of crew review" in other_crew.err
    assert (await cli.sim_stats())["requests_total"] == before  # nothing was asked

    # A full id the store does not know still goes to the deployment, as before.
    missing = await cli.run("status", "basic", "00000000-0000-0000-0000-000000000000", "--json")
    assert missing.code == 2 and missing.records[0]["kind"] == "not_found"


# --- #8: progress and durations of finished runs ----------------------------------------------


async def test_a_run_that_ended_while_nobody_watched_takes_the_servers_execution_time(
    cli: CliEnv,
) -> None:
    kickoff_id = await _kickoff(cli, "basic", "topic=R")
    await _server_state(cli, "basic", kickoff_id, {"completed"})
    # crewdash was away four minutes: the run was started (and last seen) 240 s ago.
    conn = sqlite3.connect(store_path(cli.data_dir))
    try:
        conn.execute("UPDATE runs SET created_at = created_at - 240, updated_at = updated_at - 240")
        conn.commit()
    finally:
        conn.close()

    watched = await cli.run("watch", "basic", "--json")  # re-attaches and sees it completed
    assert watched.code == 0, watched.err
    final = [r for r in watched.of_type("run") if r["final"]][-1]
    assert final["state"] == "completed"
    assert final["duration_seconds"] is not None and final["duration_seconds"] < 5.0
    (listed,) = (await cli.run("runs", "--json")).records
    assert listed["duration_seconds"] == final["duration_seconds"]
    exported = await cli.run("export", "--format", "csv")
    header, row = exported.out.splitlines()[:2]
    duration = dict(zip(header.split(","), row.split(","), strict=False))["duration_seconds"]
    assert float(duration) < 5.0  # not the 240 s until the re-attach


# --- #8: a progress line carries the time of the change, not of the kickoff -------------------


@pytest.fixture
async def slow_cli(
    sim_app_factory: Callable[..., Any],
    sim_serve: Any,
    sim_stats: Callable[[Any], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[CliEnv]:
    """The testing crews at real speed: a `basic` run takes a few seconds."""
    app = sim_app_factory("testing", speed=1.0)
    async with sim_serve(app) as server:
        yield cli_env(server, tmp_path, capsys, monkeypatch, sim_stats)


async def test_progress_lines_carry_the_time_each_change_was_seen(slow_cli: CliEnv) -> None:
    started = datetime.now().replace(microsecond=0)
    result = await slow_cli.run("kickoff", "basic", "-i", "topic=S", "--wait")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if line[:2] == "20" and " basic " in line]
    times = [datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") for line in lines]
    assert "completed  2/2" in lines[-1]
    assert times == sorted(times)
    # The run takes more than one second: its end is not dated at its kickoff.
    assert (times[-1] - started).total_seconds() >= 1
    assert times[-1] > times[0]


async def test_a_completed_run_shows_every_task_done_in_runs_exports_and_the_last_wait_line(
    slow_cli: CliEnv,
) -> None:
    # At real speed the last poll before the end sees 1 of 2 tasks done; the completed
    # status carries no progress.
    waited = await slow_cli.run("kickoff", "basic", "-i", "topic=P", "--wait", "--json")
    assert waited.code == 0, waited.err
    runs = waited.of_type("run")
    assert runs[-1]["state"] == "completed"
    assert runs[-1]["progress"] == {"completed_tasks": 2, "total_tasks": 2}

    (listed,) = (await slow_cli.run("runs", "--json")).records
    assert listed["progress"] == {"completed_tasks": 2, "total_tasks": 2}
    assert "completed  2/2" in (await slow_cli.run("runs")).out
    exported = await slow_cli.run("export", "--format", "json")
    assert '"completed_tasks": 2' in exported.out and '"completed_tasks": 1' not in exported.out


# --- #7c: headless commands speak only of the crews they were asked about ---------------------


async def test_kickoff_wait_neither_asks_nor_speaks_about_other_crews(cli: CliEnv) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            cli.server.url + "/_sim/control", json={"crew": "failing", "offline": True}
        )
        answer.raise_for_status()
    result = await cli.run("kickoff", "basic", "-i", "topic=C", "--wait")
    assert result.code == 0, result.err
    assert "failing" not in result.err and "offline" not in result.err
    stats = await cli.sim_stats()
    others = {crew for crew, routes in stats["requests"].items() if routes and crew != "basic"}
    assert others == set()  # no probe, no poll of any other crew
