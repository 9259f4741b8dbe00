"""`runs` and `export` read the local store: filters, formats, JSON shape, files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cli_helpers import CliEnv


async def _two_finished_runs(cli: CliEnv) -> tuple[str, str]:
    ok = await cli.run("kickoff", "basic", "-i", "topic=A", "--wait")
    bad = await cli.run("kickoff", "failing", "-i", "x=B", "--wait")
    assert ok.code == 0 and bad.code == 1
    return ok.out.splitlines()[0], bad.out.splitlines()[0]


async def test_runs_filters_by_crew_state_and_since(cli: CliEnv) -> None:
    ok_id, bad_id = await _two_finished_runs(cli)
    every = await cli.run("runs", "--json")
    assert every.code == 0
    assert [r["kickoff_id"] for r in every.records] == [bad_id, ok_id]  # newest first
    assert every.records[1]["result"]["output"] == "# Report on A"

    errors = await cli.run("runs", "--state", "error", "--json")
    assert [r["kickoff_id"] for r in errors.records] == [bad_id]
    basic = await cli.run("runs", "--crew", "basic", "--since", "1h", "--json")
    assert [r["kickoff_id"] for r in basic.records] == [ok_id]
    future = await cli.run("runs", "--since", "2999-01-01", "--json")
    assert future.code == 0 and future.out == ""

    human = await cli.run("runs", "--limit", "1")
    assert human.out.count("\n") == 1 and bad_id in human.out and "Boom on B" in human.out


async def test_export_formats_to_stdout_and_file(cli: CliEnv, tmp_path: Path) -> None:
    ok_id, bad_id = await _two_finished_runs(cli)
    as_json = await cli.run("export", "--crew", "basic")
    (exported,) = json.loads(as_json.out)
    assert exported["kickoff_id"] == ok_id and exported["output"] == "# Report on A"

    as_csv = await cli.run("export", "--format", "csv", "--state", "error")
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [r["kickoff_id"] for r in rows] == [bad_id] and rows[0]["error"] == "Boom on B"

    target = tmp_path / "out" / "runs.md"
    target.parent.mkdir()
    to_file = await cli.run("export", "--format", "markdown", "-o", str(target), "--json")
    assert to_file.code == 0
    assert to_file.records == [
        {"type": "export", "format": "markdown", "runs": 2, "file": str(target)}
    ]
    assert ok_id in target.read_text() and bad_id in target.read_text()

    wrapped = await cli.run("export", "--json")
    (record,) = wrapped.records
    assert record["runs"] == 2 and len(json.loads(record["content"])) == 2

    (tmp_path / "a-file").write_text("")
    bad_dir = await cli.run("export", "-o", str(tmp_path / "a-file" / "x.json"))
    assert bad_dir.code == 2 and "cannot write" in bad_dir.err
