"""`crewdash stats`: per-crew trends read from a real store file, after real runs against the
simulator over loopback; --json, --since, and the errors an operator can make."""

from __future__ import annotations

import time

from cli_helpers import CREWS, CliEnv

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.store.database import RunStore, store_path


async def test_stats_of_real_runs_as_json_and_as_a_table(cli: CliEnv) -> None:
    ok = await cli.run("kickoff", "basic", "-i", "topic=A", "--wait")
    bad = await cli.run("kickoff", "failing", "-i", "x=B", "--wait")
    assert ok.code == 0 and bad.code == 1

    every = await cli.run("stats", "--json")
    assert every.code == 0, every.err
    by_crew = {r["crew"]: r for r in every.records}
    assert list(by_crew) == list(CREWS)  # every configured crew, in config order
    basic, failing = by_crew["basic"], by_crew["failing"]
    assert (basic["runs"], basic["completed"], basic["success_rate"]) == (1, 1, 1.0)
    assert basic["duration_p50"] is not None and basic["duration_p50"] > 0
    assert (failing["runs"], failing["failed"], failing["success_rate"]) == (1, 1, 0.0)
    assert by_crew["review"]["runs"] == 0 and by_crew["review"]["success_rate"] is None
    assert basic["bucket_seconds"] == 3600 and len(basic["series"]) == 25  # 24 h, rounded out
    assert basic["series"][-1]["runs"] == 1 and "±9 %" in basic["precision"]

    table = await cli.run("stats", "basic")
    assert table.code == 0 and table.err == ""
    lines = table.out.splitlines()
    assert lines[1].split()[:2] == ["CREW", "RUNS"]
    row = lines[2].split()
    assert row[:3] == ["basic", "1", "100%"]
    assert row[-3].endswith("█") and row[-2:] == ["max", "1"]  # the sparkline, newest right
    assert lines[-1].startswith("legend: one block per hour")


def _seed(cli: CliEnv, crew: str, ages: list[float]) -> None:
    """Completed runs of `crew` started `ages` seconds ago, each 60 s long."""
    now = time.time()
    with RunStore.open(store_path(cli.data_dir)) as store:
        for i, age in enumerate(ages):
            rec = store.create_intent(crew, {}, f"seed-{crew}-{i}", {}, at=now - age)
            store.mark_accepted(rec.local_id, f"k-{crew}-{i}", at=now - age)
            done = RunStatus(RunState.COMPLETED, "completed", execution_time=60.0)
            store.record_status(rec.local_id, done, at=now - age + 61)


async def test_since_chooses_the_window_and_its_buckets(cli: CliEnv) -> None:
    _seed(cli, "basic", [2 * 86400, 3 * 86400, 600])
    day = (await cli.run("stats", "basic", "--json")).records[0]
    assert day["runs"] == 1
    week = (await cli.run("stats", "basic", "--since", "7d", "--json")).records[0]
    assert week["runs"] == 3 and week["bucket_seconds"] == 6 * 3600
    assert 28 <= len(week["series"]) <= 29
    assert abs(week["duration_p50"] - 60) <= 60 * 0.091
    short = (await cli.run("stats", "basic", "--since", "90m", "--json")).records[0]
    assert short["bucket_seconds"] == 3600 and len(short["series"]) in (2, 3)
    table = await cli.run("stats", "--since", "7d")
    assert "RUNS PER 6 HOURS" in table.out and "one block per 6 hours" in table.out


async def test_a_crew_no_longer_configured_still_has_its_trends(cli: CliEnv) -> None:
    _seed(cli, "retired", [60])
    result = await cli.run("stats", "retired", "--json")
    assert result.code == 0 and result.records[0]["runs"] == 1


async def test_bad_input_is_one_clear_line(cli: CliEnv) -> None:
    bad_since = await cli.run("stats", "--since", "yesterday")
    assert bad_since.code == 2 and bad_since.out == ""
    assert bad_since.err.strip().splitlines() == [
        "crewdash: error: --since expects a duration such as 30m, 2h, 3d or an ISO date "
        "such as 2025-01-31 or 2025-01-31T08:00, got 'yesterday'"
    ]
    future = await cli.run("stats", "--since", "2999-01-01")
    assert future.code == 2 and "is not in the past" in future.err
    unknown = await cli.run("stats", "nosuch", "--json")
    assert unknown.code == 2 and "Traceback" not in unknown.err
    assert "no crew named 'nosuch'" in unknown.err and "basic" in unknown.err
    assert unknown.records[-1]["kind"] == "unknown_crew"
