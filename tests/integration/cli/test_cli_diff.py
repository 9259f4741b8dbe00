"""`crewdash diff`: two runs the simulator really ran, compared from the store file."""

from __future__ import annotations

import sqlite3

from cli_helpers import CliEnv

from crewdash.core.store.database import store_path


async def _finished(cli: CliEnv, crew: str, value: str) -> str:
    key = "topic" if crew == "basic" else "x"
    result = await cli.run("kickoff", crew, "-i", f"{key}={value}", "--wait")
    assert result.code in (0, 1), result.err
    return result.out.splitlines()[0]


def _short(kickoff_id: str) -> str:
    return kickoff_id.replace("-", "")[:8]  # as the dashboard shows it


async def test_diff_of_two_runs_in_words_and_json(cli: CliEnv) -> None:
    first = await _finished(cli, "basic", "robots")
    second = await _finished(cli, "basic", "rockets")

    human = await cli.run("diff", "basic", _short(first), _short(second))
    assert human.code == 0, human.err
    lines = human.out.splitlines()
    assert lines[1].startswith(f"A  {first}") and lines[2].startswith(f"B  {second}")
    assert "  state      completed        == completed" in lines
    assert "- topic: robots" in lines and "+ topic: rockets" in lines
    assert "task first: changed" in "\n".join(lines)
    assert "- First about [-robots-]" in lines and "+ First about {+rockets+}" in lines
    assert "- # Report on [-robots-]" in lines and "+ # Report on {+rockets+}" in lines
    assert lines[-1] == "the runs differ"

    as_json = await cli.run("diff", "basic", first, second, "--json")
    assert as_json.code == 0, as_json.err
    (record,) = as_json.records
    assert record["type"] == "diff" and record["crew"] == "basic" and record["changed"]
    assert (record["a"]["kickoff_id"], record["b"]["kickoff_id"]) == (first, second)
    assert record["a"]["state"] == record["b"]["state"] == "completed"
    assert record["a"]["duration_seconds"] > 0 and record["b"]["decisions"] == 0
    assert [(t["name"], t["status"]) for t in record["tasks"]] == [
        ("first", "changed"),
        ("second", "changed"),
    ]
    assert record["inputs"] == [
        {"key": "topic", "status": "changed", "a": "robots", "b": "rockets"}
    ]
    row = record["output"]["rows"][0]
    assert row["tag"] == "changed" and {"text": "rockets", "changed": True} in row["b_spans"]


async def test_a_run_with_itself_by_local_id_is_the_same(cli: CliEnv) -> None:
    first = await _finished(cli, "basic", "robots")
    listed = await cli.run("runs", "--json")
    local_id = listed.records[0]["local_id"]
    same = await cli.run("diff", "basic", local_id, first)
    by_prefix = await cli.run("diff", "basic", local_id[:8], first[:6], "--json")
    assert by_prefix.code == 0, by_prefix.err
    assert by_prefix.records[0]["a"]["local_id"] == local_id
    assert by_prefix.records[0]["changed"] is False
    assert same.code == 0, same.err
    assert same.out.splitlines()[-1] == "the runs are the same"
    assert "task first: unchanged" in same.out and "output: unchanged" in same.out


async def test_bad_run_ids_get_one_clear_line(cli: CliEnv) -> None:
    ok = await _finished(cli, "basic", "robots")
    failed = await _finished(cli, "failing", "boom")

    unknown = await cli.run("diff", "basic", ok, "deadbeef")
    assert unknown.code == 2
    assert unknown.err.strip().splitlines() == [
        "crewdash: error: no run 'deadbeef' in the local store (see `crewdash runs --crew basic`)"
    ]
    other = await cli.run("diff", "basic", ok, _short(failed), "--json")
    assert other.code == 2
    (error,) = other.records
    assert (
        error["kind"] == "wrong_crew" and "a run of crew failing, not of basic" in error["message"]
    )
    short = await cli.run("diff", "basic", ok, "abc")
    assert short.code == 2 and "too short" in short.err and "Traceback" not in short.err

    await _finished(cli, "basic", "rockets")
    conn = sqlite3.connect(store_path(cli.data_dir))
    with conn:
        conn.execute(
            "UPDATE runs SET kickoff_id = '1a31dd98-0000-4000-8000-00000000000' || rowid "
            "WHERE crew = 'basic'"
        )
    conn.close()
    ambiguous = await cli.run("diff", "basic", "1a31dd", "1a31dd98", "--json")
    assert ambiguous.code == 2
    (error,) = ambiguous.records
    assert error["kind"] == "ambiguous_id" and "2 runs start with it" in error["message"]
