"""The engine as the dashboard sees it before the engine exists.

`crewdash` paints its first frame before the engine, its HTTP client (httpx) and its webhook
receiver (uvicorn) are even imported: the app is given a `DeferredEngine` holding the config
and a factory, and starts it after the first refresh. Until then the queries answer "nothing
yet" (no runs, no requests, health unknown) and the verbs (`inputs`, `kickoff`, ...) wait for
the engine, then go to it. Afterwards every attribute is the real engine's.

Given an `EngineThread` (the `crewdash` dashboard), the engine is built, started and run on
that thread's loop, so that a key never waits behind a status poll or a commit: the verbs are
awaited there, the synchronous ones that change state are called there, and the engine's
events come back through an `EventRelay` (coalesced, at most 20 deliveries a second). The
queries read the store, which is safe from any thread (one connection under a lock), or
plain dictionaries.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from crewdash.core.config.model import Config
from crewdash.core.engine_thread import EngineThread, EventRelay
from crewdash.core.models import CrewHealth

if TYPE_CHECKING:
    from crewdash.core.audit import AuditEntry
    from crewdash.core.engine import Engine
    from crewdash.core.models import DecisionRecord, Event, HumanRequest, RunRecord, StateChange
    from crewdash.core.runs.run_events import RunEvent

EngineFactory = Callable[[], "Engine | Awaitable[Engine]"]
CONNECTING = "connecting…"
T = TypeVar("T")
log = logging.getLogger(__name__)

# The engine's methods the UI may call from its own thread (dictionary lookups); every other
# method goes through the engine's thread.
_QUERIES = frozenset({"crew_latency", "learnt_rate", "requests_sent"})


class DeferredEngine:
    """An engine built by `factory` when `start()` is awaited; usable before that."""

    def __init__(
        self,
        config: Config,
        factory: EngineFactory,
        *,
        thread: EngineThread | None = None,
        after_stop: Callable[[], Awaitable[None]] | None = None,
        min_interval: float = 0.05,
    ) -> None:
        self.config = config
        self._factory = factory
        self._thread = thread
        self._after_stop = after_stop  # awaited where the engine ran, once it stopped
        self._min_interval = min_interval
        self._engine: Engine | None = None
        self._built: Engine | None = None  # built, maybe not (fully) started
        self._ready: asyncio.Event | None = None  # made on the loop that uses it
        self._callbacks: list[Callable[[Event], None]] = []
        self._unsubscribes: dict[int, Callable[[], None]] = {}
        self._relay: EventRelay | None = None
        self._starting: asyncio.Task[Any] | None = None  # on the engine's loop
        self._stopped = False

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
        """Build the engine (imports the HTTP stack), hand it the early subscribers, start it
        (on the engine's thread, given one)."""
        if self._engine is not None or self._stopped:
            return
        if self._thread is None:
            engine = await self._build()
            self._engine = engine
            for callback in self._callbacks:
                self._unsubscribes[id(callback)] = engine.subscribe(callback)
            await engine.start()
        else:
            self._thread.start()
            relay = EventRelay(
                asyncio.get_running_loop(), self._deliver, min_interval=self._min_interval
            )
            self._relay = relay

            async def build_and_start() -> Engine:
                self._starting = asyncio.current_task()
                engine = await self._build()
                engine.subscribe(relay.push)
                await engine.start()
                return engine

            self._engine = await self._thread.run(build_and_start)
        self._ready_event().set()

    async def _build(self) -> Engine:
        built = self._factory()
        engine = await built if isinstance(built, Awaitable) else built
        self._built = engine
        return engine

    async def stop(self) -> None:
        """Stop the engine, whether it started, is starting or never was built; then end its
        thread. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is None:
            if self._built is not None:
                await self._built.stop()
            if self._after_stop is not None:
                await self._after_stop()
            return
        if self._relay is not None:
            self._relay.close()
        try:
            await self._thread.run(self._stop_in_thread)
        except Exception:
            log.exception("stopping the engine failed")
        finally:
            self._thread.stop()

    async def _stop_in_thread(self) -> None:
        # A start still under way is ended first: the caller's cancellation may not have
        # reached this loop yet, and a build that finished after the look below would start
        # an engine nobody stops.
        starting = self._starting
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.wait([starting])
        try:
            if self._built is not None:
                await self._built.stop()
        finally:
            if self._after_stop is not None:
                await self._after_stop()

    def _deliver(self, events: list[Event]) -> None:
        """The relay's delivery, on this loop: every subscriber gets every event (a broken
        subscriber is logged and does not stop the others, as on the engine's own bus)."""
        for callback in list(self._callbacks):
            for event in events:
                try:
                    callback(event)
                except Exception:
                    log.exception("event subscriber failed")

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        if self._engine is not None and self._thread is None:
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

    def run_events(self, local_id: str, after: int = 0) -> list[RunEvent]:
        return self._engine.run_events(local_id, after) if self._engine is not None else []

    def decisions(self, local_id: str) -> list[DecisionRecord]:
        return self._engine.decisions(local_id) if self._engine is not None else []

    def audit(self, *args: Any, **kwargs: Any) -> list[AuditEntry]:
        return self._engine.audit(*args, **kwargs) if self._engine is not None else []

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

    # --- verbs: wait for the engine, then run where it runs ---------------------------------

    async def _on_engine(self, verb: Callable[[Engine], Awaitable[T]]) -> T:
        engine = await self._started()
        if self._thread is None:
            return await verb(engine)
        return await self._thread.run(lambda: verb(engine))

    async def inputs(self, crew: str) -> Any:
        return await self._on_engine(lambda engine: engine.inputs(crew))

    async def kickoff(self, crew: str, inputs: Mapping[str, Any]) -> RunRecord:
        return await self._on_engine(lambda engine: engine.kickoff(crew, inputs))

    async def kickoff_batch(self, *args: Any, **kwargs: Any) -> Any:
        return await self._on_engine(lambda engine: engine.kickoff_batch(*args, **kwargs))

    async def stop_run(self, local_id: str) -> RunRecord:
        return await self._on_engine(lambda engine: engine.stop_run(local_id))

    async def refresh(self, local_id: str) -> RunRecord:
        return await self._on_engine(lambda engine: engine.refresh(local_id))

    async def answer(self, *args: Any, **kwargs: Any) -> Any:
        return await self._on_engine(lambda engine: engine.answer(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        # everything else is the engine's; before it exists, the attribute is missing (so
        # `getattr(engine, name, default)` gives the default). On a thread, a method that is
        # not a plain read runs on the engine's loop (awaited, or called and waited for).
        engine = self.__dict__.get("_engine")
        if engine is None or name.startswith("__"):
            raise AttributeError(name)
        value = getattr(engine, name)
        thread: EngineThread | None = self.__dict__.get("_thread")
        if thread is None or name in _QUERIES or not callable(value):
            return value
        if inspect.iscoroutinefunction(value):

            async def awaited(*args: Any, **kwargs: Any) -> Any:
                return await thread.run(lambda: value(*args, **kwargs))

            return awaited

        def called(*args: Any, **kwargs: Any) -> Any:
            return thread.call(lambda: value(*args, **kwargs))

        return called
