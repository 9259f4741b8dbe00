"""`batch` against the simulator: rows checked before sending, resumable without duplicate
kickoffs (in-process, and across a real Ctrl+C of a real process)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from cli_helpers import CliEnv

from crewdash.core.models import KickoffPhase
from crewdash.core.store.database import RunStore, store_path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


async def test_batch_starts_every_row_and_skips_them_the_second_time(
    cli: CliEnv, tmp_path: Path
) -> None:
    file = _jsonl(tmp_path / "rows.jsonl", [{"topic": f"t{n}"} for n in range(5)])
    first = await cli.run("batch", "basic", str(file), "--concurrency", "3", "--json")
    assert first.code == 0, first.err
    kickoffs = first.of_type("kickoff")
    assert len(kickoffs) == 5 and {k["inputs"]["topic"] for k in kickoffs} == {
        f"t{n}" for n in range(5)
    }
    (summary,) = first.of_type("batch")
    assert summary["total"] == 5 and summary["accepted"] == 5 and summary["skipped"] == 0
    assert summary["errors"] == {} and summary["not_started"] == 0

    second = await cli.run("batch", "basic", str(file), "--json")
    assert second.code == 0
    assert second.of_type("kickoff") == []
    assert second.of_type("batch")[0]["skipped"] == 5
    assert (await cli.sim_stats())["kickoffs_accepted"] == 5


async def test_csv_rows_are_converted_and_a_bad_row_refuses_the_batch(
    cli: CliEnv, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("count,ratio,flag\n1,0.5,yes\nlots,1,\n")
    refused = await cli.run("batch", "legacy", str(bad), "--json")
    assert refused.code == 2
    assert refused.records[0]["message"] == (
        f"{bad} row 2: input 'count' expects a whole number, got 'lots'"
    )
    stats = await cli.sim_stats()
    assert stats["kickoffs_accepted"] == 0 and cli.kickoff_requests(stats, "legacy") == 0

    good = tmp_path / "good.csv"
    good.write_text("count,ratio,flag\n1,0.5,yes\n2,3,\n")
    result = await cli.run("batch", "legacy", str(good))
    assert result.code == 0, result.err
    sent = sorted((k["inputs"] for k in (await cli.sim_stats())["kickoffs"]), key=str)
    assert sent == [{"count": 1, "ratio": 0.5, "flag": True}, {"count": 2, "ratio": 3}]


async def test_batch_usage_errors(cli: CliEnv, tmp_path: Path) -> None:
    missing = await cli.run("batch", "basic", str(tmp_path / "nope.jsonl"))
    assert missing.code == 2 and "does not exist" in missing.err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"topic": "a"}\nnot json\n')
    result = await cli.run("batch", "basic", str(broken), "--json")
    assert result.code == 2 and "line 2" in result.records[0]["message"]


def _env(cli: CliEnv) -> dict[str, str]:
    return {
        **os.environ,
        "CREWDASH_CONFIG": str(cli.config),
        "CREWDASH_DATA_DIR": str(cli.data_dir),
        "PYTHONUNBUFFERED": "1",
    }


async def test_ctrl_c_stops_a_batch_and_the_next_run_carries_on(
    cli: CliEnv, tmp_path: Path
) -> None:
    rows = 16
    file = _jsonl(tmp_path / "rows.jsonl", [{"topic": f"row{n}"} for n in range(rows)])
    # Slow kickoffs so that Ctrl+C lands in the middle of the batch with POSTs on the wire.
    cli.server.app.configure("basic", faults={"latency": 0.25})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", "batch", "basic", str(file), "--concurrency", "2",
        "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(cli),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    seen: list[dict[str, object]] = []
    async with asyncio.timeout(30):
        while len(seen) < 3:  # wait for three kickoffs to be reported, then interrupt
            line = await proc.stdout.readline()
            assert line, (await proc.stderr.read()).decode()
            seen.append(json.loads(line))
        proc.send_signal(signal.SIGINT)
        rest, err = await proc.communicate()
    records = seen + [json.loads(line) for line in rest.decode().splitlines()]
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert "run the same command again" in err.decode()
    (summary,) = [r for r in records if r["type"] == "batch"]
    started = [r for r in records if r["type"] == "kickoff"]
    assert summary["accepted"] == len(started) and 3 <= len(started) < rows
    assert summary["not_started"] == rows - len(started) and summary["unknown"] == 0
    assert summary["refused"] == 0 and summary["errors"] == {}

    # Nothing lost: every run the simulator accepted has its kickoff id in the store.
    stats = await cli.sim_stats()
    accepted_ids = {k["kickoff_id"] for k in stats["kickoffs"]}
    store = RunStore.open(store_path(cli.data_dir))
    try:
        runs = store.list_runs(crew="basic")
        stored = {r.kickoff_id for r in runs}
        assert all(r.phase is not KickoffPhase.UNKNOWN for r in store.list_runs())
        # Rows held back by Ctrl+C leave no row at all: no refused "not sent" placeholders.
        assert not any("interrupted" in (r.error or "") for r in runs)
        assert all(r.phase is KickoffPhase.ACCEPTED for r in runs)
        assert len(runs) == len(started)
    finally:
        store.close()
    assert accepted_ids == {r["kickoff_id"] for r in started}
    assert accepted_ids <= stored

    cli.server.app.configure("basic", faults={"latency": 0.0})
    again = await cli.run("batch", "basic", str(file), "--json")
    assert again.code == 0, again.err
    (summary2,) = again.of_type("batch")
    assert summary2["skipped"] == len(started)
    assert summary2["accepted"] == rows - len(started)
    stats = await cli.sim_stats()
    topics = [k["inputs"]["topic"] for k in stats["kickoffs"]]
    assert stats["kickoffs_accepted"] == rows
    assert sorted(topics) == sorted(f"row{n}" for n in range(rows))  # each row exactly once


async def test_ctrl_c_stops_watch_and_says_how_to_carry_on(cli: CliEnv) -> None:
    started = await cli.run("kickoff", "review", "-i", "brief=x", "--json")
    kickoff_id = started.of_type("kickoff")[0]["kickoff_id"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", "watch", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(cli),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    async with asyncio.timeout(30):
        while True:  # follow until the pause is on disk and reported
            line = await proc.stdout.readline()
            assert line, (await proc.stderr.read()).decode()
            if json.loads(line).get("state") == "awaiting_input":
                break
        proc.send_signal(signal.SIGINT)
        rest, err = await proc.communicate()
    assert proc.returncode == 130
    error = [json.loads(line) for line in rest.decode().splitlines()][-1]
    assert error["kind"] == "interrupted" and error["exit_code"] == 130
    assert f"crewdash status review {kickoff_id}" in err.decode()
    assert "Traceback" not in err.decode()

    runs = await cli.run("runs", "--crew", "review", "--json")
    (run,) = runs.records
    assert run["kickoff_id"] == kickoff_id and run["state"] == "awaiting_input"
