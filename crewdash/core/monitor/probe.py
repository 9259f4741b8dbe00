"""Crew health before any run is polled: `GET /` on start, then every `interval` seconds for
each crew that has no run being polled (the monitor's polls tell its health then).

One failed check is not "offline": the crew is checked again after `retry_after_failure`
seconds and shown "flaky" (health SLOW) meanwhile; it is offline once `offline_after_failures`
checks failed in a row and none passed for `offline_after_seconds` (the monitor's rule for its
polls, see `crewdash.core.monitor.health`). One passing check ends it. A check the client's
circuit breaker held back was never sent and counts for nothing.

A crew that stays down is logged once when it goes down and once when it comes back, never
once per probe: a night of an offline crew must not fill the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

from crewdash.aop.errors import AOPError, AuthenticationError, CircuitOpenError
from crewdash.core.models import CrewHealth, CrewHealthChanged
from crewdash.core.timing import Clock

log = logging.getLogger(__name__)

NOTE_TOKEN_PROBE = "token rejected (401): fix the crew's token"


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    interval: float = 60.0  # seconds between probes of an idle crew
    slow_after: float = 2.0  # latency (seconds) above which a crew is "slow"
    retry_after_failure: float = 10.0  # a failed check is repeated this much sooner
    offline_after_failures: int = 3  # checks failed in a row ...
    offline_after_seconds: float = 30.0  # ... with none passing for this long: offline


def slow_detail(latency: float) -> str:
    """The detail of a SLOW crew, said alike by the probe and the monitor."""
    return f"slow: answers take {latency:.1f} s"


_KIND_WORDS = {
    "server": "server errors",
    "timeout": "timeouts",
    "connection": "connection errors",
    "protocol": "unreadable answers",
    "circuit_open": "held back after failures in a row",
}


def flaky_detail(kind: str) -> str:
    """The detail of a crew some of whose requests fail, not (yet) offline (health SLOW)."""
    return f"flaky: some requests fail ({_KIND_WORDS.get(kind, kind)}); runs are still followed"


def offline_detail(since: float, kind: str) -> str:
    """The detail of an OFFLINE crew: since when (local HH:MM) and the failure's kind."""
    return f"crew offline since {_time.strftime('%H:%M', _time.localtime(since))} ({kind})"


def latency_text(seconds: float) -> str:
    """'12 ms', '1.4 s'."""
    if seconds < 1.0:
        return f"{max(1, round(seconds * 1000))} ms"
    return f"{seconds:.1f} s"


class HealthProbe:
    """One task probing every crew that is due; see the module docstring.

    `client_for(crew)` returns the crew's client or None (no usable token: not probed);
    `polled()` the crews with at least one run the monitor polls; `publish` gets every
    change of a crew's probed health."""

    def __init__(
        self,
        crews: Callable[[], list[str]],
        client_for: Callable[[str], object],  # any client: one without `health` is skipped
        polled: Callable[[], set[str]],
        publish: Callable[[CrewHealthChanged], None],
        *,
        clock: Clock,
        settings: ProbeSettings | None = None,
    ) -> None:
        self.crews = crews
        self.client_for = client_for
        self.polled = polled
        self.publish = publish
        self.clock = clock
        self.settings = settings or ProbeSettings()
        self.probes = 0  # requests sent (tests and the curious)
        self._last: dict[str, CrewHealthChanged] = {}
        self._next: dict[str, float] = {}
        self._failures: dict[str, int] = {}  # checks failed in a row
        self._last_ok: dict[str, float] = {}  # monotonic: the last passing check, or the
        # first failure of a crew never reached
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="health probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def last(self, crew: str) -> CrewHealthChanged | None:
        """The latest probed health of `crew`, if it was probed."""
        return self._last.get(crew)

    async def _run(self) -> None:
        first = True
        while True:
            now = self.clock.monotonic()
            busy = set() if first else self.polled()  # on start every crew is probed once
            due = [
                crew
                for crew in self.crews()
                if crew not in busy and self._next.get(crew, now) <= now
            ]
            first = False
            for crew in due:
                self._next[crew] = now + self.settings.interval
            if due:
                await asyncio.gather(*(self.probe(crew) for crew in due))
            now = self.clock.monotonic()
            for crew in busy:  # its runs tell its health; look again a full interval later
                self._next[crew] = now + self.settings.interval
            wake = min(self._next.values(), default=now + self.settings.interval)
            await self.clock.sleep(max(1.0, wake - now))

    async def probe(self, crew: str) -> CrewHealthChanged | None:
        """Probe one crew now; its health afterwards (None when it has no usable client)."""
        try:
            client = self.client_for(crew)
        except Exception:
            return None  # no token: the engine reports that itself
        health_of = getattr(client, "health", None)
        if health_of is None:
            return None
        self.probes += 1
        latency: float | None = None
        try:
            latency = float(await health_of())
        except AuthenticationError:
            event = CrewHealthChanged(crew, CrewHealth.TOKEN_REJECTED, NOTE_TOKEN_PROBE)
        except AOPError as exc:
            event = self._failed(crew, exc.kind, sent=not isinstance(exc, CircuitOpenError))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an odd answer: the crew is not usable, say so once
            event = self._failed(crew, type(exc).__name__, sent=True)
        else:
            self._failures.pop(crew, None)
            self._last_ok[crew] = self.clock.monotonic()
            if latency > self.settings.slow_after:
                detail = slow_detail(latency)
                event = CrewHealthChanged(crew, CrewHealth.SLOW, detail, latency=latency)
            else:
                event = CrewHealthChanged(crew, CrewHealth.OK, "ok", latency=latency)
        self._record(crew, event)
        return self._last[crew]

    def _failed(self, crew: str, kind: str, *, sent: bool) -> CrewHealthChanged:
        """A failed check: offline on evidence (see the module docstring), else flaky and
        checked again soon."""
        now = self.clock.monotonic()
        s = self.settings
        if sent:
            self._failures[crew] = self._failures.get(crew, 0) + 1
            self._last_ok.setdefault(crew, now)
        previous = self._last.get(crew)
        if (
            self._failures.get(crew, 0) >= s.offline_after_failures
            and now - self._last_ok.get(crew, now) >= s.offline_after_seconds
        ) or (previous is not None and previous.health is CrewHealth.OFFLINE):
            return self._offline(crew, kind)
        self._next[crew] = min(self._next.get(crew, now), now + s.retry_after_failure)
        if previous is not None and previous.detail.startswith("flaky: "):
            return previous  # said already
        return CrewHealthChanged(crew, CrewHealth.SLOW, flaky_detail(kind))

    def _offline(self, crew: str, kind: str) -> CrewHealthChanged:
        previous = self._last.get(crew)
        if previous is not None and previous.health is CrewHealth.OFFLINE:
            return previous  # still down: same detail and since, so nothing is published
        since = self.clock.time()
        return CrewHealthChanged(crew, CrewHealth.OFFLINE, offline_detail(since, kind), since=since)

    def _record(self, crew: str, event: CrewHealthChanged) -> None:
        previous = self._last.get(crew)
        self._last[crew] = event
        if previous is not None and _shown(previous) == _shown(event):
            return  # what the operator sees is the same: nobody is told
        if event.health is CrewHealth.OFFLINE or event.health is CrewHealth.TOKEN_REJECTED:
            log.warning("crew %s: %s", crew, event.detail)
        elif previous is not None and previous.health in (
            CrewHealth.OFFLINE,
            CrewHealth.TOKEN_REJECTED,
        ):
            log.warning("crew %s is back: %s", crew, event.detail)
        if event.since is None:
            event = CrewHealthChanged(
                crew, event.health, event.detail, self.clock.time(), event.latency
            )
            self._last[crew] = event
        self.publish(event)


def _shown(event: CrewHealthChanged) -> tuple[CrewHealth, str, str]:
    latency = latency_text(event.latency) if event.latency is not None else ""
    return (event.health, event.detail, latency)
