"""`inputs` and `kickoff` against the simulator: JSON shapes, typed values, refusals before
anything is sent, exit codes."""

from __future__ import annotations

import socket
from pathlib import Path

from cli_helpers import CliEnv, write_crews

RUN_KEYS = {
    "type", "local_id", "crew", "kickoff_id", "phase", "attempts", "state", "raw_state", "final",
    "current_task", "progress", "error", "note", "stalled", "offline_since", "created_at",
    "updated_at", "finished_at", "duration_seconds", "inputs", "result",
}  # fmt: skip


async def test_inputs_lists_specs_as_json_lines(cli: CliEnv) -> None:
    result = await cli.run("inputs", "legacy", "--json")
    assert result.code == 0
    by_name = {r["name"]: r for r in result.of_type("input")}
    assert list(by_name) == ["count", "ratio", "flag", "mode", "extra"]
    assert by_name["count"]["input_type"] == "integer" and by_name["count"]["required"] is True
    assert by_name["mode"]["choices"] == ["a", "b"]
    assert set(by_name["flag"]) == {
        "type", "crew", "name", "input_type", "raw_type", "required", "default",
        "description", "choices",
    }  # fmt: skip

    human = await cli.run("inputs", "review")
    assert human.code == 0
    assert human.out.splitlines() == ["brief  string  required", "tone  string  optional"]


async def test_kickoff_converts_values_with_the_specs(cli: CliEnv) -> None:
    result = await cli.run(
        "kickoff", "legacy", "-i", "count=35", "-i", "ratio=0.5", "-i", "flag=no",
        "-i", "mode=b", "-i", 'extra={"k": [1]}', "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    (record,) = result.records
    assert set(record) == RUN_KEYS
    assert record["type"] == "kickoff" and record["phase"] == "accepted"
    stats = await cli.sim_stats()
    (sent,) = stats["kickoffs"]
    assert sent["kickoff_id"] == record["kickoff_id"]
    assert sent["inputs"] == {"count": 35, "ratio": 0.5, "flag": False, "mode": "b",
                              "extra": {"k": [1]}}  # fmt: skip
    assert type(sent["inputs"]["count"]) is int
    assert sent["meta"]["crewdash_request_id"]


async def test_inputs_file_and_command_line_merge(cli: CliEnv, tmp_path: Path) -> None:
    file = tmp_path / "in.json"
    file.write_text('{"count": 2, "ratio": 1}')
    result = await cli.run("kickoff", "legacy", "--inputs-file", str(file), "-i", "count=7")
    assert result.code == 0, result.err
    assert len(result.out.strip()) == 36  # the kickoff id alone on stdout
    (sent,) = (await cli.sim_stats())["kickoffs"]
    assert sent["inputs"] == {"count": 7, "ratio": 1}


async def test_wrong_or_missing_values_are_refused_before_sending(cli: CliEnv) -> None:
    wrong = await cli.run("kickoff", "legacy", "-i", "count=many", "-i", "ratio=1", "--json")
    assert wrong.code == 2
    (error,) = wrong.records
    assert error == {
        "type": "error",
        "kind": "validation",
        "message": "input 'count' expects a whole number, got 'many'",
        "exit_code": 2,
    }
    assert "crewdash: error: input 'count' expects a whole number" in wrong.err
    assert "Traceback" not in wrong.err

    missing = await cli.run("kickoff", "review", "-i", "tone=dry")
    assert missing.code == 2 and "missing required input: brief" in missing.err
    assert missing.out == ""

    stats = await cli.sim_stats()
    assert stats["kickoffs_accepted"] == 0
    assert cli.kickoff_requests(stats, "legacy") == 0
    assert cli.kickoff_requests(stats, "review") == 0


async def test_usage_errors_exit_2(cli: CliEnv) -> None:
    unknown = await cli.run("kickoff", "nope", "-i", "a=b", "--json")
    assert unknown.code == 2 and unknown.records[0]["kind"] == "unknown_crew"
    assert "no crew named 'nope'" in unknown.err
    bad_pair = await cli.run("kickoff", "basic", "-i", "topic")
    assert bad_pair.code == 2 and "key=value" in bad_pair.err


async def test_a_rejected_token_exits_3_and_never_shows_it(cli: CliEnv) -> None:
    secret = "wrong-token-ZZZ-never-printed"
    write_crews(cli.config, cli.server, tokens={"basic": secret})
    result = await cli.run("kickoff", "basic", "-i", "topic=x", "--json")
    assert result.code == 3
    assert result.records[0]["kind"] == "auth"
    assert secret not in result.out + result.err
    assert "Traceback" not in result.err


async def test_an_unreachable_crew_exits_4(cli: CliEnv) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = cli.config.read_text().replace(cli.server.url, f"http://127.0.0.1:{port}")
    cli.config.write_text(text)
    result = await cli.run("inputs", "basic", "--json")
    assert result.code == 4
    (error,) = result.records
    assert error["type"] == "error" and error["exit_code"] == 4
    assert "Traceback" not in result.err
