"""The dashboard's engine on a thread of its own, against the simulator over loopback: the
real Engine and store on the engine's loop, the caller's loop receiving its events."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from crewdash.aop.models import RunState
from crewdash.core.engine import Engine
from crewdash.core.engine_thread import EngineThread
from crewdash.core.models import AnswerOutcome, Event, InboxChanged, RunChanged
from crewdash.core.store.database import RunStore
from crewdash.tui.engine_handle import DeferredEngine
from tests.sim_config import sim_config


async def test_a_run_is_started_answered_and_followed_to_the_end_from_another_loop(
    sim_server: Any, sim_stats: Any, tmp_path: Path
) -> None:
    config = sim_config(sim_server, ["review"], connect_timeout=2.0, read_timeout=5.0)
    store = RunStore.open(tmp_path / "runs.sqlite3")
    engine_threads: set[str] = set()

    async def build() -> Engine:
        engine_threads.add(threading.current_thread().name)
        return Engine(config, store)

    deferred = DeferredEngine(config, build, thread=EngineThread(name="engine"))
    here = threading.current_thread().name
    events: list[Event] = []
    changed = asyncio.Condition()

    def on_event(event: Event) -> None:
        assert threading.current_thread().name == here  # never on the engine's thread

        async def note() -> None:
            async with changed:
                events.append(event)
                changed.notify_all()

        asyncio.get_running_loop().create_task(note())

    async def until(condition: Any) -> None:
        async with changed:
            await asyncio.wait_for(changed.wait_for(condition), 20)

    deferred.subscribe(on_event)
    await deferred.start()
    try:
        assert engine_threads == {"engine"}
        run = await deferred.kickoff("review", {"brief": "b"})
        assert run.kickoff_id is not None
        await until(lambda: any(isinstance(e, InboxChanged) for e in events))
        [request] = deferred.inbox()  # a store read, from this thread
        outcome = await deferred.answer(request.id, feedback="ship it", approve=True)
        assert outcome is AnswerOutcome.ACCEPTED
        await until(
            lambda: any(
                isinstance(e, RunChanged) and e.run.state is RunState.COMPLETED for e in events
            )
        )
        final = deferred.run(run.local_id)
        assert final is not None and final.state is RunState.COMPLETED
        # the completion came as one change from a state not final: it can be announced
        completion = next(
            e for e in events if isinstance(e, RunChanged) and e.run.state is RunState.COMPLETED
        )
        assert completion.previous is not None and not completion.previous.state.is_final
    finally:
        await deferred.stop()
        store.close()
    stats = await sim_stats(sim_server)
    assert len([r for r in stats["resumes"] if r.get("status") == 200]) == 1
