"""Engine.kickoff: a failed kickoff publishes its own stored row, whatever else runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from crewdash.aop.errors import ValidationError
from crewdash.aop.models import Secret
from crewdash.core.config.model import Config, CrewConfig, TokenSource
from crewdash.core.engine import Engine
from crewdash.core.models import KickoffPhase, RunChanged
from crewdash.core.runs.kickoff import META_KEY
from engine.fakes import open_store, settle


class GatedClient:
    """Each kickoff waits for its own gate; input "fail" is then refused with a 422."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.request_ids: dict[str, str] = {}

    async def kickoff(self, inputs, *, meta=None, webhooks=None, human_input_webhook=None):
        name = inputs["name"]
        self.request_ids[name] = meta[META_KEY]
        gate = self.gates.setdefault(name, asyncio.Event())
        await gate.wait()
        if name == "fail":
            raise ValidationError("missing input", status_code=422)
        return f"kick-{name}"

    async def aclose(self) -> None:
        return None


async def test_a_failed_kickoff_publishes_its_own_row_while_a_newer_one_is_in_flight(
    tmp_path: Path,
) -> None:
    crew = CrewConfig(
        name="research", url="http://127.0.0.1:1/x", token=TokenSource(inline=Secret("t"))
    )
    client = GatedClient()
    store = open_store(tmp_path)
    engine = Engine(
        Config(path=None, crews={"research": crew}), store, client_factory=lambda c, t: client
    )
    published: list[RunChanged] = []
    engine.subscribe(lambda e: published.append(e) if isinstance(e, RunChanged) else None)
    await engine.start()
    newer: asyncio.Future | None = None
    try:
        failing = asyncio.ensure_future(engine.kickoff("research", {"name": "fail"}))
        await settle()
        newer = asyncio.ensure_future(engine.kickoff("research", {"name": "ok"}))
        await settle()  # both intents stored; the second is the crew's newest row
        client.gates["fail"].set()
        await asyncio.gather(failing, return_exceptions=True)
        assert isinstance(failing.exception(), ValidationError)
        (event,) = published
        assert event.run.request_id == client.request_ids["fail"]
        assert event.run.phase is KickoffPhase.REFUSED
        client.gates["ok"].set()
        accepted = await newer
        assert accepted.request_id == client.request_ids["ok"]
    finally:
        for gate in client.gates.values():
            gate.set()
        if newer is not None:
            await asyncio.gather(newer, return_exceptions=True)
        await engine.stop()
        store.close()
