"""Time as a dependency: every wait and every timestamp of the client goes through a `Clock`,
so retry, backoff and circuit-breaker policies are tested with a fake clock, without sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock. `blocking_sleep` serves the synchronous client; a fake clock for
    `CrewClient` should offer it too (otherwise `time.sleep` is used)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def blocking_sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"
