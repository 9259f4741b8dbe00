"""One human-input request seen by several crewdash processes through different channels.

Real processes on one store file: `crewdash kickoff --wait` and `crewdash resume` run as child
processes (`python -m crewdash`) and see the flow's pause by polling; an engine in the test's
process gets the flow's signed delivery (and its task webhook) through its receiver. Whatever
the order, the store holds one request with the flow's outcomes and callback, and `resume`
answers it once, through the callback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cli_helpers import CliEnv

from crewdash.aop.models import RunState, Secret
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.engine import Engine
from crewdash.core.models import RequestSource
from crewdash.core.store.database import RunStore, store_path
from crewdash.sim.scenario import FlowWebhook
from tests.sim_config import sim_config

FLOW_SECRET = "flow-secret-for-tests"


def _env(cli: CliEnv) -> dict[str, str]:
    return {
        **os.environ,
        "CREWDASH_CONFIG": str(cli.config),
        "CREWDASH_DATA_DIR": str(cli.data_dir),
        "PYTHONUNBUFFERED": "1",
    }


async def _crewdash(cli: CliEnv, *argv: str) -> tuple[int, str, str]:
    """`python -m crewdash ARGV` in its own process, to its end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(cli),
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def wait_until(engine: Engine, condition: Callable[[], bool], limit: float = 30) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


@pytest.fixture
async def receiving_engine(cli: CliEnv) -> AsyncIterator[Engine]:
    """The dashboard's engine on the CLI's store, its receiver taking the flow's deliveries."""
    receiver = ReceiverConfig(
        enabled=True, host="127.0.0.1", port=0, flow_secret=Secret(FLOW_SECRET)
    )
    store = RunStore.open(store_path(cli.data_dir))
    engine = Engine(sim_config(cli.server, ["flow"], receiver), store)
    await engine.start()
    yield engine
    await engine.stop()
    store.close()


def _flow_webhook(engine: Engine, **kw: Any) -> FlowWebhook:
    return FlowWebhook(url=f"{engine.receiver_url}/hooks/flow/flow", secret=FLOW_SECRET, **kw)


async def test_resume_in_another_process_answers_the_one_request_every_channel_reported(
    cli: CliEnv, receiving_engine: Engine
) -> None:
    engine = receiving_engine
    cli.server.app.configure("flow", flow_webhook=_flow_webhook(engine))
    run = await engine.kickoff("flow", {"amount": "12 EUR"})  # task webhook + signed delivery

    def reported() -> bool:
        record = engine.run(run.local_id)
        return record.state is RunState.AWAITING_INPUT and any(
            r.callback_url for r in engine.inbox()
        )

    await wait_until(engine, reported)
    [request] = engine.inbox()
    code, out, err = await _crewdash(
        cli, "resume", "flow", str(run.kickoff_id), "--outcome", "approve", "--feedback", "ok",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "several tasks" not in err
    [answer] = [json.loads(line) for line in out.splitlines()]
    assert answer["request_id"] == request.id and answer["outcome"] == "accepted"
    assert answer["task_id"] == "check"
    stats = await cli.sim_stats()
    assert [(c["body"]["feedback"], c["status"]) for c in stats["callbacks"]] == [
        ("approve: ok", 200)
    ]
    assert stats["resumes"] == []
    await wait_until(engine, lambda: engine.run(run.local_id).state.is_final)
    assert engine.inbox() == []
    [decision] = engine.decisions(run.local_id)  # the other process's answer, in this history
    assert decision.channel == "callback" and decision.outcome == "approve"


async def test_a_pause_one_process_polled_and_another_got_signed_is_one_request(
    cli: CliEnv, receiving_engine: Engine
) -> None:
    engine = receiving_engine
    # Process 1 starts the run (no webhooks: a one-shot command) and files the pause it polls.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", "kickoff", "flow", "-i", "amount=99", "--wait",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(cli),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    async with asyncio.timeout(60):
        kickoff_id = (await proc.stdout.readline()).decode().strip()
        while True:
            line = (await proc.stderr.readline()).decode()
            assert line, "the kickoff process ended before it saw the pause"
            if "waits for human input" in line:
                break
        proc.send_signal(signal.SIGINT)  # stop watching; the run waits on
        await proc.communicate()
    assert "--outcome approve|reject|escalate" in line
    [polled] = engine.store.pending_requests()
    assert polled.source is RequestSource.STATUS and polled.is_flow
    assert polled.callback_url is None and polled.kickoff_id == kickoff_id

    # The deployment's signed flow webhook reaches this process (an escalation: the SLA of
    # 0.01 minutes has passed) and adds its callback to that same request.
    cli.server.app.configure("flow", flow_webhook=_flow_webhook(engine, sla_target_minutes=0.01))
    await wait_until(engine, lambda: any(r.callback_url for r in engine.inbox()))
    [request] = engine.inbox()
    assert request.id == polled.id and request.flow_request_id == f"{kickoff_id}:check:1"
    assert request.sla_minutes == 0.01 and request.emit == ("approve", "reject", "escalate")

    # Process 2 answers it: one request, through the flow's callback.
    code, out, err = await _crewdash(
        cli, "resume", "flow", kickoff_id, "--outcome", "escalate", "--json"
    )
    assert code == 0, err
    [answer] = [json.loads(line) for line in out.splitlines()]
    assert answer["request_id"] == polled.id and answer["outcome"] == "accepted"
    stats = await cli.sim_stats()
    assert [(c["body"]["feedback"], c["status"]) for c in stats["callbacks"]] == [("escalate", 200)]
    assert stats["resumes"] == []
    assert engine.inbox() == []


async def test_resume_of_a_run_this_store_does_not_know_files_it_as_one_request(
    cli: CliEnv, tmp_path: Any
) -> None:
    # Another crewdash (its own store) started the run; this data dir has never seen it.
    other = RunStore.open(tmp_path / "elsewhere.sqlite3")
    engine = Engine(sim_config(cli.server, ["review"]), other)
    await engine.start()
    try:
        run = await engine.kickoff("review", {"brief": "b"})
        await wait_until(engine, lambda: bool(engine.inbox()))
    finally:
        await engine.stop()
        other.close()
    code, out, err = await _crewdash(
        cli, "resume", "review", str(run.kickoff_id), "--approve", "--json"
    )
    assert code == 0, err
    [answer] = [json.loads(line) for line in out.splitlines()]
    assert answer["request_id"] == f"{run.kickoff_id}:review" and answer["task_id"] == "review"
    store = RunStore.open(store_path(cli.data_dir))
    try:
        request = store.get_request(answer["request_id"])
        assert request is not None and request.attempt == 1 and not request.is_flow
        assert [str(d["outcome"]) for d in store.decisions(request.id)] == ["accepted"]
    finally:
        store.close()
    assert len((await cli.sim_stats())["resumes"]) == 1
