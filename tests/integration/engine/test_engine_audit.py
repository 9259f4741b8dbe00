"""The audit trail through the real engine (issue 14): a kickoff, an answer and a stop done by
an engine whose store says "dashboard", against the simulator over loopback; then `crewdash
audit --json` (the real command, in another thread) lists them with channel and answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crewdash.cli import main
from crewdash.core.audit import DASHBOARD, this_host
from crewdash.core.engine import Engine
from crewdash.core.store.database import RunStore, local_user
from tests.sim_config import sim_config


async def _wait_until(engine: Engine, condition: Callable[[], bool], limit: float = 20) -> None:
    """Re-check `condition` on every engine event (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        events = engine.events()
        while not condition():
            await anext(events)


async def test_kickoff_answer_stop_through_the_engine_are_audited(
    sim_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3", channel=DASHBOARD)
    engine = Engine(sim_config(sim_server, ["review"]), store)
    await engine.start()
    try:
        answered = await engine.kickoff("review", {"brief": "one"})
        await _wait_until(engine, lambda: bool(engine.inbox()))
        [request] = engine.inbox()
        await engine.answer(request.id, feedback="ship it", approve=True)
        stopped = await engine.kickoff("review", {"brief": "two"})
        await engine.stop_run(stopped.local_id)
    finally:
        await engine.stop()
        store.close()

    monkeypatch.setenv("CREWDASH_DATA_DIR", str(tmp_path))
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    entries = [json.loads(line) for line in out.splitlines()]
    assert {(e["channel"], e["user"], e["host"]) for e in entries} == {
        (DASHBOARD, local_user(), this_host())
    }
    seen = [(e["what"], e["local_id"], e["server_answer"]) for e in entries]
    assert seen[0] == ("stop", stopped.local_id, "2xx: stop accepted")
    assert ("kickoff", stopped.local_id, f"2xx: kickoff id {stopped.kickoff_id}") in seen
    assert ("kickoff", answered.local_id, f"2xx: kickoff id {answered.kickoff_id}") in seen
    [answer] = [e for e in entries if e["what"] == "answer"]
    assert answer["local_id"] == answered.local_id and answer["feedback"] == "ship it"
    assert answer["outcome"] == "accepted" and answer["server_answer"]
