"""A read-only engine (what `crewdash --read-only` and `crewdash serve` run) refuses every verb
that would change something, before anything is sent; it still reads. Defence in depth: the
read-only dashboard has no key for these, and its engine could not carry them out anyway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crewdash.core.engine import Engine
from crewdash.core.engine_clients import EngineError
from crewdash.core.inbox.answers import InboxError
from crewdash.core.store.database import RunStore
from tests.sim_config import sim_config


def _mutating(stats: dict[str, Any]) -> dict[str, int]:
    return {
        f"{crew} {route}": sum(by_status.values())
        for crew, routes in stats["requests"].items()
        for route, by_status in routes.items()
        if not route.startswith("GET ")
    }


async def test_a_read_only_engine_sends_nothing_that_changes_anything(
    sim_server: Any, tmp_path: Path
) -> None:
    store = RunStore.open(tmp_path / "runs.sqlite3")
    config = sim_config(sim_server, ["basic", "review"])
    writer = Engine(config, store)
    await writer.start()
    run = await writer.kickoff("basic", {"topic": "read only"})
    assert run.kickoff_id
    before = _mutating(sim_server.stats())
    reader = Engine(config, store, read_only=True)
    await reader.start()
    try:
        verbs = [
            reader.kickoff("basic", {"topic": "x"}),
            reader.kickoff_batch("basic", [{"topic": "x"}]),
            reader.stop_run(run.local_id),
            reader.adopt(run.local_id, "k-123"),
            reader.resend(run.local_id),
            reader.answer("any-request", feedback="ok"),
        ]
        for verb in verbs:
            with pytest.raises((EngineError, InboxError), match=r"^read-only: "):
                await verb
        with pytest.raises(EngineError, match=r"^read-only: "):
            reader.dismiss(run.local_id)
        refreshed = await reader.refresh(run.local_id)  # reading goes on
        assert refreshed.kickoff_id == run.kickoff_id
        assert _mutating(sim_server.stats()) == before
    finally:
        await writer.stop()
        await reader.stop()
        store.close()
