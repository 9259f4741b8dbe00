"""`crewdash audit` against the simulator over loopback (issue 14): kickoffs, an answer and
stops done by the real commands are listed with who, channel and the server's answer, as a
table, JSON lines and CSV that parses back; the filters; clear one-line errors."""

from __future__ import annotations

import csv
import io

import pytest
from cli_helpers import CliEnv, wait_paused

from crewdash.commands.support.audit_render import CSV_COLUMNS
from crewdash.core.audit import this_host
from crewdash.core.store.database import local_user

FEEDBACK = 'fine, but "shorter"\nsecond line, too'


async def _kickoff(cli: CliEnv, *inputs: str) -> str:
    args = [arg for value in inputs for arg in ("-i", value)]
    started = await cli.run("kickoff", "review", *args, "--json")
    assert started.code == 0, started.err
    return str(started.of_type("kickoff")[0]["kickoff_id"])


async def _story(cli: CliEnv) -> tuple[str, str]:
    """A run answered, another stopped (then stopped again, refused)."""
    answered = await _kickoff(cli, "brief=one")
    await wait_paused(cli, answered)
    resumed = await cli.run(
        "resume", "review", answered, "--approve", "--feedback", FEEDBACK, "--json"
    )
    assert resumed.code == 0, resumed.err
    stopped = await _kickoff(cli, "brief=two")
    assert (await cli.run("stop", "review", stopped)).code == 0
    again = await cli.run("stop", "review", stopped)
    assert again.code == 2 and "already finished" in again.err
    return answered, stopped


async def test_audit_lists_what_the_commands_did(cli: CliEnv) -> None:
    answered, stopped = await _story(cli)
    listed = await cli.run("audit", "--json")
    assert listed.code == 0, listed.err
    entries = listed.of_type("audit")
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert {(e["user"], e["host"]) for e in entries} == {(local_user(), this_host())}
    by_what = {(e["what"], e["kickoff_id"], e["server_answer"] or ""): e for e in entries}
    kicked = by_what[("kickoff", answered, f"2xx: kickoff id {answered}")]
    assert kicked["channel"] == "cli:kickoff" and kicked["crew"] == "review"
    [answer] = [e for e in entries if e["what"] == "answer"]
    assert answer["channel"] == "cli:resume" and answer["kickoff_id"] == answered
    assert answer["feedback"] == FEEDBACK and answer["detail"] == "approved"
    assert answer["outcome"] == "accepted" and answer["server_answer"]
    stops = [e for e in entries if e["what"] == "stop"]
    assert [e["channel"] for e in stops] == ["cli:stop", "cli:stop"]
    assert stops[1]["server_answer"] == "2xx: stop accepted"
    assert stops[0]["server_answer"].startswith("HTTP 4")  # the second stop, refused
    assert {e["kickoff_id"] for e in stops} == {stopped}


async def test_table_and_csv_that_parses_back(cli: CliEnv) -> None:
    answered, _ = await _story(cli)
    table = await cli.run("audit")
    assert table.code == 0, table.err
    header, *lines = table.out.splitlines()
    assert header.split() == ["WHEN", "WHO", "CHANNEL", "CREW", "RUN", "WHAT", "SERVER", "ANSWER"]
    assert len(lines) == 5  # 2 kickoffs, 1 answer, 2 stops, and nothing else
    assert any("cli:resume" in line and 'answer: approved "fine' in line for line in lines)
    assert any("2xx: stop accepted" in line for line in lines)

    exported = await cli.run("audit", "--format", "csv")
    assert exported.code == 0, exported.err
    rows = list(csv.DictReader(io.StringIO(exported.out, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    [answer] = [r for r in rows if r["what"] == "answer"]
    assert answer["feedback"] == FEEDBACK  # commas, quotes and the newline survive
    assert answer["kickoff_id"] == answered and answer["channel"] == "cli:resume"
    assert answer["at"].endswith("Z")


async def test_filters(cli: CliEnv) -> None:
    answered, stopped = await _story(cli)

    async def kinds(*argv: str) -> list[tuple[str, str]]:
        result = await cli.run("audit", *argv, "--json")
        assert result.code == 0, result.err
        return [(e["what"], e["kickoff_id"]) for e in result.of_type("audit")]

    assert await kinds("--run", answered) == [("answer", answered), ("kickoff", answered)]
    assert await kinds("--run", answered[:8]) == await kinds("--run", answered)  # as shown
    assert {k for _, k in await kinds("--run", stopped)} == {stopped}
    assert len(await kinds("--operator", local_user())) == 5
    assert len(await kinds("--operator", f"{local_user()}@{this_host()}")) == 5
    assert await kinds("--operator", "nobody") == []
    assert len(await kinds("--crew", "review", "--since", "1h")) == 5
    assert await kinds("--crew", "basic") == []
    assert await kinds("--since", "2999-01-01") == []
    empty = await cli.run("audit", "--operator", "nobody")
    assert empty.out == "" and "no decisions or actions match" in empty.err


async def test_bad_options_are_one_line_errors(cli: CliEnv) -> None:
    await _kickoff(cli, "brief=one")
    for argv, words in (
        (("--since", "yesterday"), "--since expects a duration"),
        (("--run", "no-such-run"), "no run 'no-such-run' in the store"),
        (("--json", "--format", "csv"), "choose one"),
    ):
        result = await cli.run("audit", *argv)
        assert result.code == 2, (argv, result.err)
        assert words in result.err and "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) <= 2, result.err  # argparse adds usage


async def test_limit_reads_the_store_a_page_at_a_time(
    cli: CliEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _story(cli)
    whole = (await cli.run("audit", "--json")).of_type("audit")
    monkeypatch.setattr("crewdash.commands.audit.PAGE", 2)  # 5 entries: three pages
    paged = await cli.run("audit", "--json", "--limit", "0")
    assert paged.code == 0 and paged.of_type("audit") == whole
    first = await cli.run("audit", "--json", "--limit", "3")
    assert first.of_type("audit") == whole[:3]
    assert "the newest 3 shown; --limit 0 shows all" in first.err
