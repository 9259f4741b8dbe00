"""The engine's own thread: an asyncio loop beside the caller's, and its events handed back.

The dashboard's event loop paints and answers keys; with the engine on it too, a key waited
behind status polls and SQLite commits (issue 17 sampled 58% HTTP and 25% commits on the one
loop). `EngineThread` runs a second loop on a daemon thread: the engine, its HTTP clients, its
monitor, its receiver (and the demo's simulator) live there. The caller submits coroutines
and calls to it and awaits them on its own loop; the engine's events come back through an
`EventRelay`, coalesced, at a bounded rate.

No Textual here: the TUI's `DeferredEngine` builds on this.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the records are built after the first frame: imported by the relay
    from crewdash.core.models import Event

T = TypeVar("T")
log = logging.getLogger(__name__)


class EngineThreadError(RuntimeError):
    """The engine's thread is not running (never started, or stopped)."""


class EngineThread:
    """An event loop on a daemon thread. `run()` and `call()` may be used from any thread."""

    def __init__(self, name: str = "crewdash-engine") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            raise EngineThreadError("the engine's thread is not running")
        return self._loop

    def start(self) -> None:
        """Start the thread and its loop; returns once the loop runs (a few ms)."""
        if self._thread is not None:
            return
        running = threading.Event()
        loop = asyncio.new_event_loop()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(running.set)
            try:
                loop.run_forever()
            finally:
                _close(loop)

        self._loop = loop
        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        running.wait()

    def in_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await `make()` on the engine's loop, from the caller's loop. Cancelling the caller
        cancels it there too."""
        if self.in_thread():
            return await make()

        async def job() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(job(), self.loop)
        return await asyncio.wrap_future(future)

    def call(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run `fn()` on the engine's loop and return its result, blocking the caller until
        then: for the few synchronous verbs that change the engine's state (a dismiss, a new
        token). The engine's loop runs short callbacks only, so the wait is short."""
        if self.in_thread():
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn())
            except BaseException as error:  # handed to the caller, who raises it
                future.set_exception(error)

        self.loop.call_soon_threadsafe(job)
        return future.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (after what is running now) and wait for the thread to end."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if thread.is_alive():
                log.error("the engine's thread did not stop within %.0f s", timeout)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on a stopped loop and close it (as `asyncio.run` does)."""
    try:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


class EventRelay:
    """Engine events from any thread, delivered on `loop` in order, coalesced per run,
    request and crew (`crewdash.core.events.coalesce`), at most once per `min_interval`
    seconds. The first event after a quiet spell goes at once; events that come while a
    delivery is pending or too soon after the last join it."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[Event]], None],
        *,
        min_interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from crewdash.core.events import coalesce

        self._coalesce = coalesce
        self._loop = loop
        self._deliver = deliver
        self._min_interval = min_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._scheduled = False
        self._last = float("-inf")
        self._closed = False

    def push(self, event: Event) -> None:
        """Take an event (any thread; never blocks on the receiving loop, never raises)."""
        with self._lock:
            if self._closed:
                return
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
            delay = max(0.0, self._last + self._min_interval - self._clock())
        try:
            self._loop.call_soon_threadsafe(self._schedule, delay)
        except RuntimeError:  # the receiving loop is closed: nobody is left to tell
            with self._lock:
                self._closed = True

    def close(self) -> None:
        """Deliver nothing more."""
        with self._lock:
            self._closed = True
            self._pending.clear()

    def _schedule(self, delay: float) -> None:
        if delay > 0:
            self._loop.call_later(delay, self._flush)
        else:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
            self._scheduled = False
            self._last = self._clock()
            if self._closed:
                return
        if events:
            self._deliver(self._coalesce(events))
