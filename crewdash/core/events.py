"""The engine's event bus: callbacks and async iterators, plus a coalescing helper.

Every event carries the full current value (a RunRecord, a HumanRequest, a crew's health), so a
subscriber that falls behind may keep only the latest event per key: `coalesce()` does that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import assert_never

from crewdash.core.models import (
    CrewHealthChanged,
    Event,
    InboxChanged,
    RunChanged,
    RunEventsAdded,
)

log = logging.getLogger(__name__)


def event_key(event: Event) -> tuple[str, str]:
    """What an event is about: a later event with the same key supersedes it."""
    if isinstance(event, RunChanged):
        return ("run", event.run.local_id)
    if isinstance(event, InboxChanged):
        return ("request", event.request.id)
    if isinstance(event, CrewHealthChanged):
        return ("crew", event.crew)
    if isinstance(event, RunEventsAdded):
        return ("events", event.local_id)
    assert_never(event)  # a new kind of Event needs its key here


def coalesce(events: Iterable[Event]) -> list[Event]:
    """Keep only the latest event per key, in the order of those latest events. A run's
    change keeps the `previous` of the oldest change it replaces, so a change from running to
    completed is still seen as one (announcements compare the two)."""
    latest: dict[tuple[str, str], Event] = {}
    for event in events:
        key = event_key(event)
        older = latest.pop(key, None)  # re-insert so order follows the newest occurrence
        if isinstance(event, RunChanged) and isinstance(older, RunChanged):
            event = RunChanged(event.run, older.previous)
        latest[key] = event
    return list(latest.values())


class EventBus:
    """Fan-out of engine events. `publish` never blocks and never raises."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Event], None]] = []
        self._queues: set[asyncio.Queue[Event]] = set()
        self.published = 0
        self._held: list[Event] | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Events published inside go out, in order, when the block ends (after the store
        transaction it wraps committed). If it raises, the run and inbox events are dropped
        (what they show is not on disk) and the rest go out."""
        if self._held is not None:  # nested: the outer block releases
            yield
            return
        held = self._held = []
        try:
            yield
        except BaseException:
            self._held = None
            for event in held:
                if isinstance(event, CrewHealthChanged):
                    self.publish(event)
            raise
        self._held = None
        for event in held:
            self.publish(event)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        if self._held is not None:
            self._held.append(event)
            return
        self.published += 1
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                # A broken subscriber must not stop the monitor or other subscribers.
                log.exception("event subscriber failed")
        for queue in self._queues:
            queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        """Every event published from now on, until the consumer stops iterating."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Like `events()`, but yields everything queued at once, coalesced per key."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                pending = [await queue.get()]
                while not queue.empty():
                    pending.append(queue.get_nowait())
                yield coalesce(pending)
        finally:
            self._queues.discard(queue)
