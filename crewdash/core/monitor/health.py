"""A crew's health, from the outcomes of its status requests: a small state machine.

- token rejected: any 401 (from a poll, or from any other request of the crew the engine saw:
  inputs, kickoff, resume, stop, health check). Its runs are parked until the token is
  replaced or a request of the crew succeeds again.
- offline: only on evidence that the crew is really unreachable: a request actually sent failed
  (connection, timeout, 5xx), at least `offline_after_failures` sent requests failed in a row
  with no success in between, and no request succeeded for `offline_after_seconds` (counted from
  the first failure when the crew was never reached). A request the client's circuit breaker
  held back was never sent: it is no evidence either way. One success clears offline at once.
- slow: answers slower than `slow_after` on average, or "flaky": at least `flaky_after` of the
  last `flaky_window` requests failed while others succeeded. Sporadic server errors are at
  most this, never offline.
- ok otherwise.

Pure and synchronous: monotonic `now` and wall-clock `wall` are passed in; each transition
returns the CrewHealthChanged to publish, if the health or its words changed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from crewdash.core.models import CrewHealth, CrewHealthChanged
from crewdash.core.monitor.probe import flaky_detail, offline_detail, slow_detail
from crewdash.core.monitor.settings import MonitorSettings

NOTE_TOKEN = "token rejected (401): polling of this crew stopped until the token is fixed"


def held_detail(failures: int) -> str:
    """The detail while the client holds requests back after failures in a row (SLOW)."""
    return f"not answering: {failures} requests in a row failed; crewdash waits, then tries again"


@dataclass(slots=True)
class HealthState:
    """One crew's health and the evidence behind it."""

    crew: str
    settings: MonitorSettings
    health: CrewHealth = CrewHealth.UNKNOWN
    detail: str = ""
    since: float | None = None  # wall time of the last change
    failures: int = 0  # sent requests failed in a row
    last_ok: float = 0.0  # monotonic time of the last success (0: never)
    offline_since: float | None = None  # wall time
    rejected: bool = False
    latency: float | None = None  # EWMA of the answers' latency, seconds
    recent: deque[bool] = field(default_factory=deque)  # outcomes of the last requests (ok?)

    def set(
        self, health: CrewHealth, detail: str, wall: float, since: float | None = None
    ) -> CrewHealthChanged | None:
        """Move to `health` with `detail`; the event to publish, if anything changed."""
        if self.health is health and self.detail == detail:
            return None
        self.health, self.detail = health, detail
        self.since = since if since is not None else wall
        return CrewHealthChanged(self.crew, health, detail, self.since)

    def _outcome(self, ok: bool) -> int:
        """Remember one request's outcome; how many of the recent ones failed."""
        self.recent.append(ok)
        while len(self.recent) > max(1, self.settings.flaky_window):
            self.recent.popleft()
        return sum(1 for good in self.recent if not good)

    def succeeded(self, latency: float, now: float, wall: float) -> CrewHealthChanged | None:
        """A request was answered in `latency` seconds. Ends an outage at once (the caller
        sees `offline_since` go back to None)."""
        self.failures = 0
        self.last_ok = now
        self.latency = latency if self.latency is None else 0.8 * self.latency + 0.2 * latency
        if self.offline_since is not None:
            self.recent.clear()  # an outage that ended is not flakiness
        failed = self._outcome(True)
        self.offline_since = None
        s = self.settings
        if self.latency > s.slow_after:
            return self.set(CrewHealth.SLOW, slow_detail(self.latency), wall)
        if failed >= s.flaky_after:
            if self.detail.startswith("flaky:"):  # still flaky: keep the words it has
                return None
            return self.set(CrewHealth.SLOW, flaky_detail("failed requests"), wall)
        return self.set(CrewHealth.OK, "ok", wall)

    def failed(
        self, kind: str, now: float, wall: float, *, held: bool = False
    ) -> CrewHealthChanged | None:
        """A request failed with an error of `kind` (connection, timeout, server, ...).
        `held`: the circuit breaker held it back, so it was never sent. Going offline sets
        `offline_since` (the caller flags the crew's runs)."""
        failed = 0
        if not held:
            self.failures += 1
            failed = self._outcome(False)
            if self.failures == 1 and self.last_ok == 0.0:
                self.last_ok = now  # never reached yet: count the silence from the first failure
        s = self.settings
        unreachable = (
            not held
            and self.failures >= s.offline_after_failures
            and now - self.last_ok >= s.offline_after_seconds
        )
        if self.offline_since is not None:
            return None
        if unreachable:
            self.offline_since = wall
            return self.set(
                CrewHealth.OFFLINE, offline_detail(wall, kind), wall, since=self.offline_since
            )
        if held:
            return self.set(CrewHealth.SLOW, held_detail(self.failures), wall)
        if failed >= s.flaky_after or self.failures > 1:
            return self.set(CrewHealth.SLOW, flaky_detail(kind), wall)
        return None

    def reject(self, wall: float) -> CrewHealthChanged | None:
        """A request of the crew got a 401: its token is rejected until replaced or accepted."""
        if self.rejected:
            return None
        self.rejected = True
        return self.set(CrewHealth.TOKEN_REJECTED, NOTE_TOKEN, wall)

    def unreject(self, health: CrewHealth, detail: str, wall: float) -> CrewHealthChanged | None:
        """The token was replaced (health UNKNOWN until checked) or accepted again (OK)."""
        self.rejected = False
        return self.set(health, detail, wall)


__all__ = ["NOTE_TOKEN", "HealthState", "held_detail"]
