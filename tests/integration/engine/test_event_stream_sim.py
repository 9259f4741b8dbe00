"""The event stream end to end: the real webhook receiver and the simulator over loopback;
a kickoff advertises step/task/crew webhooks, the simulator sends them, the engine keeps
them in the run store and lists them in order; a second process's view hears of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crewdash.aop.models import RunState
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.engine import Engine
from crewdash.core.models import RunEventsAdded
from crewdash.core.runs.run_events import EventKind
from crewdash.core.store.database import RunStore
from tests.sim_config import sim_config


async def wait_until(engine: Engine, condition: Callable[[], bool], limit: float) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


def _config(sim_server: Any, receiver: bool) -> Any:
    hooks = ReceiverConfig(enabled=True, host="127.0.0.1", port=0) if receiver else None
    return sim_config(sim_server, ["basic"], hooks, connect_timeout=2.0, read_timeout=5.0)


async def test_step_task_and_crew_webhooks_are_kept_in_order(
    sim_server: Any, tmp_path: Path
) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine = Engine(_config(sim_server, receiver=True), store)
    await engine.start()
    added: list[RunEventsAdded] = []
    engine.subscribe(lambda e: isinstance(e, RunEventsAdded) and added.append(e))
    try:
        run = await engine.kickoff("basic", {"topic": "agents"})
        assert run.webhooks.get("step_url", "").startswith(str(engine.receiver_url))

        def done() -> bool:
            kinds = [e.kind for e in engine.run_events(run.local_id)]
            return EventKind.CREW in kinds and engine.run(run.local_id).state.is_final

        await wait_until(engine, done, 20)
    finally:
        await engine.stop()
    events = engine.run_events(run.local_id)
    # testing's `basic`: two tasks of two steps (a tool call, then the final answer), a task
    # end after each, the run's end
    assert [e.kind for e in events] == [
        EventKind.TOOL,
        EventKind.STEP,
        EventKind.TASK,
        EventKind.TOOL,
        EventKind.STEP,
        EventKind.TASK,
        EventKind.CREW,
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[0].summary.startswith("read_file(") and "agents" in events[0].summary
    assert events[2].summary.startswith("first ended (Researcher): First about agents")
    assert events[5].summary.startswith("second ended (Writer)")
    assert events[6].summary == "run completed"
    assert engine.run(run.local_id).state is RunState.COMPLETED
    assert {e.local_id for e in added} == {run.local_id} and len(added) >= 1
    store.close()


async def test_another_process_hears_of_the_events(sim_server: Any, tmp_path: Path) -> None:
    """A second engine on the same store, without a receiver, is told of the events the
    first one received (the change log), and lists the same ones."""
    path = tmp_path / "runs.sqlite3"
    store, other_store = RunStore.open(path), RunStore.open(path)
    engine = Engine(_config(sim_server, receiver=True), store)
    viewer = Engine(_config(sim_server, receiver=False), other_store)
    await engine.start()
    await viewer.start()
    heard: list[RunEventsAdded] = []
    viewer.subscribe(lambda e: isinstance(e, RunEventsAdded) and heard.append(e))
    try:
        run = await engine.kickoff("basic", {"topic": "x"})

        def seen_all() -> bool:
            kinds = [e.kind for e in viewer.run_events(run.local_id)]
            return bool(heard) and EventKind.CREW in kinds

        await wait_until(viewer, seen_all, 20)
    finally:
        await viewer.stop()
        await engine.stop()
    assert viewer.receiver_url is None
    assert heard[-1].local_id == run.local_id
    assert viewer.run_events(run.local_id) == engine.run_events(run.local_id)
    store.close()
    other_store.close()


async def test_without_the_receiver_nothing_is_kept(sim_server: Any, tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine = Engine(_config(sim_server, receiver=False), store)
    await engine.start()
    try:
        run = await engine.kickoff("basic", {"topic": "x"})
        await wait_until(engine, lambda: engine.run(run.local_id).state.is_final, 20)
    finally:
        await engine.stop()
    assert run.webhooks == {} or not run.webhooks.get("step_url")
    assert engine.run_events(run.local_id) == []
    store.close()
