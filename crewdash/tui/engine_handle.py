"""The engine as the dashboard sees it before the engine exists.

`crewdash` paints its first frame before the engine, its HTTP client (httpx) and its webhook
receiver (uvicorn) are even imported: the app is given a `DeferredEngine` holding the config
and a factory, and starts it after the first refresh. Until then the queries answer "nothing
yet" (no runs, no requests, health unknown) and the verbs (`inputs`, `kickoff`, ...) wait for
the engine, then go to it. Afterwards every attribute is the real engine's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from crewdash.core.config.model import Config
from crewdash.core.models import CrewHealth

if TYPE_CHECKING:
    from crewdash.core.engine import Engine
    from crewdash.core.models import DecisionRecord, Event, HumanRequest, RunRecord, StateChange

EngineFactory = Callable[[], "Engine | Awaitable[Engine]"]
CONNECTING = "connecting…"


class DeferredEngine:
    """An engine built by `factory` when `start()` is awaited; usable before that."""

    def __init__(self, config: Config, factory: EngineFactory) -> None:
        self.config = config
        self._factory = factory
        self._engine: Engine | None = None
        self._ready: asyncio.Event | None = None  # made on the loop that uses it
        self._callbacks: list[Callable[[Event], None]] = []
        self._unsubscribes: dict[int, Callable[[], None]] = {}

    @property
    def engine(self) -> Engine | None:
        """The real engine once built (None before)."""
        return self._engine

    def _ready_event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    async def _started(self) -> Engine:
        await self._ready_event().wait()
        assert self._engine is not None
        return self._engine

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the engine (imports the HTTP stack), hand it the early subscribers, start it."""
        if self._engine is not None:
            return
        built = self._factory()
        engine = await built if isinstance(built, Awaitable) else built
        self._engine = engine
        for callback in self._callbacks:
            self._unsubscribes[id(callback)] = engine.subscribe(callback)
        await engine.start()
        self._ready_event().set()

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        if self._engine is not None:
            self._unsubscribes[id(callback)] = self._engine.subscribe(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
            undo = self._unsubscribes.pop(id(callback), None)
            if undo is not None:
                undo()

        return unsubscribe

    # --- queries: "nothing yet" until the engine exists ------------------------------------

    def runs(self) -> list[RunRecord]:
        return self._engine.runs() if self._engine is not None else []

    def run(self, local_id: str) -> RunRecord | None:
        return self._engine.run(local_id) if self._engine is not None else None

    def history(self, local_id: str) -> list[StateChange]:
        return self._engine.history(local_id) if self._engine is not None else []

    def inbox(self) -> list[HumanRequest]:
        return self._engine.inbox() if self._engine is not None else []

    def decisions(self, local_id: str) -> list[DecisionRecord]:
        return self._engine.decisions(local_id) if self._engine is not None else []

    def crew_health(self, crew: str) -> tuple[CrewHealth, str]:
        if self._engine is None:
            return (CrewHealth.UNKNOWN, CONNECTING)
        return self._engine.crew_health(crew)

    @property
    def receiver_url(self) -> str | None:
        return self._engine.receiver_url if self._engine is not None else None

    @property
    def store(self) -> Any:
        return self._engine.store if self._engine is not None else None

    # --- verbs: wait for the engine --------------------------------------------------------

    async def inputs(self, crew: str) -> Any:
        return await (await self._started()).inputs(crew)

    async def kickoff(self, crew: str, inputs: Mapping[str, Any]) -> RunRecord:
        return await (await self._started()).kickoff(crew, inputs)

    async def kickoff_batch(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._started()).kickoff_batch(*args, **kwargs)

    async def stop_run(self, local_id: str) -> RunRecord:
        return await (await self._started()).stop_run(local_id)

    async def refresh(self, local_id: str) -> RunRecord:
        return await (await self._started()).refresh(local_id)

    async def answer(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._started()).answer(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # everything else is the engine's; before it exists, the attribute is missing (so
        # `getattr(engine, name, default)` gives the default)
        engine = self.__dict__.get("_engine")
        if engine is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(engine, name)
