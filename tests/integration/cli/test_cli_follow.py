"""`kickoff --wait`, `status`, `watch`, `stop` and `resume` against the simulator."""

from __future__ import annotations

from cli_helpers import CliEnv


async def _kickoff(cli: CliEnv, crew: str, *inputs: str) -> str:
    argv = ["kickoff", crew]
    for item in inputs:
        argv += ["-i", item]
    result = await cli.run(*argv, "--json")
    assert result.code == 0, result.err
    return result.of_type("kickoff")[0]["kickoff_id"]


async def test_wait_follows_to_completion_and_prints_the_output(cli: CliEnv) -> None:
    result = await cli.run("kickoff", "basic", "-i", "topic=AI", "--wait")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines[0]) == 36  # the kickoff id first, then the output
    assert "# Report on AI" in result.out
    assert "completed" in result.err


async def test_wait_exits_1_when_the_run_ends_in_error(cli: CliEnv) -> None:
    result = await cli.run("kickoff", "failing", "-i", "x=7", "--wait", "--json")
    assert result.code == 1
    runs = result.of_type("run")
    assert runs[-1]["state"] == "error" and runs[-1]["error"] == "Boom on 7"
    assert runs[-1]["final"] is True


async def test_wait_timeout_says_how_to_pick_the_run_up(cli: CliEnv) -> None:
    # The review crew pauses for human input: it never ends by itself. The pause comes 0.25 s
    # into the run; 6 s leaves several polls to see it on a loaded machine (the resume hint
    # needs the paused task's id).
    result = await cli.run("kickoff", "review", "-i", "brief=B", "--wait", "--timeout", "6")
    assert result.code == 4
    kickoff_id = result.out.splitlines()[0]
    assert f"crewdash status review {kickoff_id}" in result.err
    assert "crewdash watch review" in result.err
    assert f"crewdash resume review {kickoff_id} --task review" in result.err


async def test_status_json_shape_and_exit_codes(cli: CliEnv) -> None:
    done = await cli.run("kickoff", "basic", "-i", "topic=T", "--wait")
    kickoff_id = done.out.splitlines()[0]
    result = await cli.run("status", "basic", kickoff_id, "--json")
    assert result.code == 0
    (status,) = result.records
    assert status["type"] == "status" and status["state"] == "completed"
    assert status["result"]["output"] == "# Report on T"
    assert [t["task_id"] for t in status["result"]["tasks"]] == ["first", "second"]

    failed = await cli.run("kickoff", "failing", "-i", "x=1", "--wait")
    failed_id = failed.out.splitlines()[0]
    result = await cli.run("status", "failing", failed_id)
    assert result.code == 1 and "error: Boom on 1" in result.out

    missing = await cli.run("status", "basic", "00000000-0000-0000-0000-000000000000", "--json")
    assert missing.code == 2 and missing.records[0]["kind"] == "not_found"


async def test_status_on_the_legacy_route(cli: CliEnv) -> None:
    kickoff_id = await _kickoff(cli, "legacy", "count=1", "ratio=2")
    result = await cli.run("status", "legacy", kickoff_id, "--json")
    assert result.code == 0 and result.records[0]["kickoff_id"] == kickoff_id


async def test_watch_follows_every_unfinished_run_to_its_end(cli: CliEnv) -> None:
    ids = [await _kickoff(cli, "basic", f"topic={n}") for n in range(3)]
    failing = await _kickoff(cli, "failing", "x=2")
    result = await cli.run("watch", "--json")
    assert result.code == 1, result.err  # one run ended in error
    finals = {r["kickoff_id"]: r for r in result.of_type("run") if r["final"]}
    assert set(finals) == {*ids, failing}
    assert [finals[i]["state"] for i in ids] == ["completed"] * 3
    assert finals[failing]["state"] == "error"
    assert result.of_type("summary") == [
        {"type": "summary", "runs": 4, "completed": 3, "failed": 1, "unfinished": 0}
    ]
    nothing = await cli.run("watch", "basic", "--json")
    assert nothing.code == 0 and nothing.records == [
        {"type": "summary", "runs": 0, "completed": 0, "failed": 0}
    ]


async def test_watch_only_the_named_crews(cli: CliEnv) -> None:
    basic = await _kickoff(cli, "basic", "topic=x")
    await _kickoff(cli, "review", "brief=y")  # pauses: would never end
    result = await cli.run("watch", "basic", "--json")
    assert result.code == 0
    assert {r["kickoff_id"] for r in result.of_type("run")} == {basic}


async def test_watch_timeout_and_unknown_crew(cli: CliEnv) -> None:
    kickoff_id = await _kickoff(cli, "review", "brief=x")
    result = await cli.run("watch", "--timeout", "1", "--json")
    assert result.code == 4
    error = result.of_type("error")[0]
    assert error["kind"] == "timeout" and f"crewdash status review {kickoff_id}" in error["message"]
    unknown = await cli.run("watch", "nope")
    assert unknown.code == 2 and "no crew named 'nope'" in unknown.err


async def test_resume_approves_through_the_inbox_with_an_audit_row(cli: CliEnv) -> None:
    waited = await cli.run("kickoff", "review", "-i", "brief=B", "--wait", "--timeout", "1.5")
    kickoff_id = waited.out.splitlines()[0]
    result = await cli.run(
        "resume", "review", kickoff_id, "--task", "review", "--approve",
        "--feedback", "ship it", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    (answer,) = result.records
    assert answer["type"] == "answer" and answer["outcome"] == "accepted"
    assert answer["request_id"] == f"{kickoff_id}:review"
    stats = await cli.sim_stats()
    assert [r["body"] for r in stats["resumes"]] == [
        {"execution_id": kickoff_id, "task_id": "review", "human_feedback": "ship it",
         "is_approve": True}
    ]  # fmt: skip

    from crewdash.core.store.database import RunStore, store_path

    store = RunStore.open(store_path(cli.data_dir))
    try:
        (decision,) = store.decisions(f"{kickoff_id}:review")
    finally:
        store.close()
    assert decision["feedback"] == "ship it" and decision["approve"] is True
    assert str(decision["outcome"]) == "accepted"

    # The run goes on: a second answer is told who answered first (issue 13), exit 0.
    again = await cli.run("resume", "review", kickoff_id, "--approve")
    assert again.code == 0, again.err
    assert "someone else answered first" in again.out and '("ship it")' in again.out
    assert len((await cli.sim_stats())["resumes"]) == 1  # nothing sent twice

    finished = await cli.run("watch", "review", "--timeout", "10")
    assert finished.code == 0


async def test_resume_a_flow_with_an_outcome_and_refusals(cli: CliEnv) -> None:
    waited = await cli.run("kickoff", "flow", "-i", "amount=5", "--wait", "--timeout", "3")
    kickoff_id = waited.out.splitlines()[0]
    assert "--outcome approve|reject|escalate" in waited.err  # the outcomes the status named
    reject = await cli.run("resume", "flow", kickoff_id, "--reject")
    assert reject.code == 2 and "--reject needs --feedback" in reject.err
    wrong_task = await cli.run("resume", "flow", kickoff_id, "--task", "nope", "--approve")
    assert wrong_task.code == 2
    # The pause was seen only by polling, yet the request knows the flow's outcomes.
    crew_answer = await cli.run("resume", "flow", kickoff_id, "--approve")
    assert crew_answer.code == 2
    assert "asks for --outcome, one of: approve, reject, escalate" in crew_answer.err
    unknown = await cli.run("resume", "flow", kickoff_id, "--outcome", "maybe")
    assert unknown.code == 2 and "not offered" in unknown.err
    result = await cli.run(
        "resume", "flow", kickoff_id, "--outcome", "reject", "--feedback", "too vague", "--json"
    )
    assert result.code == 0, result.err
    (resume,) = (await cli.sim_stats())["resumes"]
    # The inbox's rule: the outcome leads the feedback; a rejection is sent as is_approve false.
    assert resume["body"]["human_feedback"] == "reject: too vague"
    assert resume["body"]["is_approve"] is False

    from crewdash.core.store.database import RunStore, store_path

    store = RunStore.open(store_path(cli.data_dir))
    try:
        (decision,) = store.decisions(result.records[0]["request_id"])
    finally:
        store.close()
    assert decision["outcome_choice"] == "reject" and decision["feedback"] == "too vague"


async def test_stop_a_running_run_and_a_deployment_without_stop(cli: CliEnv) -> None:
    kickoff_id = await _kickoff(cli, "review", "brief=x")
    result = await cli.run("stop", "review", kickoff_id, "--json")
    assert result.code == 0, result.err
    (stopped,) = result.records
    assert stopped["type"] == "stopped" and stopped["kickoff_id"] == kickoff_id
    assert (await cli.sim_stats())["stops"] == 1
    again = await cli.run("stop", "review", kickoff_id)
    assert again.code == 2 and "already finished" in again.err

    legacy_id = await _kickoff(cli, "legacy", "count=1", "ratio=1")
    legacy = await cli.run("stop", "legacy", legacy_id, "--json")
    assert legacy.code == 2
    assert legacy.records[0]["kind"] == "unsupported"
    assert "cannot stop runs" in legacy.err
