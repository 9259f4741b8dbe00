"""The clock the engine runs on: the protocol of `crewdash.aop.Clock`, and a default on the
event loop's own clock so timers and `monotonic()` agree."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """Real time. `monotonic()` is the running loop's clock when there is one."""

    def monotonic(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def sleep_or_wake(clock: Clock, seconds: float, wake: asyncio.Event) -> None:
    """Wait `seconds` on `clock`, or less if `wake` is set first."""
    if wake.is_set():
        return
    if isinstance(clock, LoopClock):
        # The common, real-time case: one timer handle, no extra tasks.
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await wake.wait()
        except TimeoutError:
            pass
        return
    timer = asyncio.ensure_future(clock.sleep(seconds))
    waiter = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({timer, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for fut in (timer, waiter):
            if not fut.done():
                fut.cancel()
