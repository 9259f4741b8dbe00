"""The status changes that arrive in one turn of the event loop, stored in one transaction.

A poll that sees a change hands its handling to `Tick.run` instead of doing it at once; the
first such hand-over of a turn schedules one flush for the next. The flush runs every handed
work in one store transaction (`store.batch()`, one commit: at `synchronous=FULL` one fsync
instead of one per change) with the event bus held, commits, and only then lets the events
out: a result or a human decision is on disk before anyone is shown it. Nothing else runs
between the first write and the commit (the flush is one synchronous callback), so no other
caller's write can slip into the transaction and wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from crewdash.core.events import EventBus
from crewdash.core.monitor.tracking import TrackedRun, Tracking

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchLost(Exception):
    """The tick's transaction did not commit: none of its changes is stored or was shown."""


class Tick:
    """See the module docstring. `store` needs no `batch()` (a test's fake): then every
    write commits on its own, as before, and the events still wait for the flush."""

    def __init__(self, store: object, bus: EventBus) -> None:
        self._batch: Callable[[], contextlib.AbstractContextManager[Any]] = getattr(
            store, "batch", contextlib.nullcontext
        )
        self._bus = bus
        self._work: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self.flushes = 0  # transactions committed (tests and benchmarks count them)

    def run(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """`work()` in this turn's transaction; its result (or exception) once committed."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if not self._work:
            asyncio.get_running_loop().call_soon(self._flush)
        self._work.append((work, fut))
        return fut

    def _flush(self) -> None:
        work, self._work = self._work, []
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self._bus.held(), self._batch():
                for item, fut in work:
                    try:
                        done.append((fut, item(), None))
                    except Exception as exc:  # this one's failure is its poll's to handle
                        done.append((fut, None, exc))
        except Exception as exc:
            log.exception("storing %d status changes failed; none was shown", len(work))
            for _, fut in work:
                if not fut.done():
                    fut.set_exception(BatchLost(str(exc)))
            return
        self.flushes += 1
        for fut, result, error in done:
            if fut.done():  # its poll was cancelled meanwhile
                continue
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(result)


FINISHED = -1.0  # as a poll's delay (by identity): the poll was finished inside its tick

Answer = tuple[float | None, Coroutine[Any, Any, None] | None]  # delay, async on_status


class StoredInTicks(Tracking):
    """The monitor's side of the tick: a poll that saw a change is handled, and finished
    (`_finish`: waiters, next due time), inside its tick's transaction."""

    _tick: Tick

    def _finish(self, run: TrackedRun, sent_at: float, delay: float | None) -> None:
        raise NotImplementedError

    def _answered_in_tick(
        self, run: TrackedRun, answered: Callable[[], Answer], sent_at: float
    ) -> Answer:
        """`answered` inside the tick's transaction; the poll finishes there too (unless an
        async `on_status` is still to come), as it did at once before the tick, so the runs
        answered after it in the same tick see it scheduled and no longer in flight."""
        delay, after = answered()
        if after is not None:
            return delay, after
        self._finish(run, sent_at, delay)
        return FINISHED, None

    async def _stored(
        self, run: TrackedRun, answered: Callable[[], Answer], sent_at: float
    ) -> Answer:
        try:
            return await self._tick.run(
                functools.partial(self._answered_in_tick, run, answered, sent_at)
            )
        except BatchLost:
            # Not on disk and not shown: forget what this poll saw, so the next one (the run
            # tracked still, even if the poll saw it end) writes it again.
            run.seen = None
            stored = self.store.get(run.record.local_id)
            if stored is not None:
                run.record = stored
                self._runs.setdefault(stored.local_id, run)
            raise
