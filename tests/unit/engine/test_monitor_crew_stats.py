"""Monitor.crew_stats(): what the monitor's polls feed the trends screen."""

from __future__ import annotations

from crewdash.aop.errors import CircuitOpenError, ServerError
from crewdash.aop.models import RunStatus
from crewdash.core.events import EventBus
from crewdash.core.monitor.poller import Monitor, MonitorSettings
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock, ScriptedClient, accepted_run, crew_config, status


async def test_crew_stats_counts_the_sent_requests_and_their_failures(store: RunStore) -> None:
    clock = ManualClock()
    t0 = clock.now

    def answer(_kid: str, now: float) -> RunStatus | BaseException:
        if t0 + 5 <= now < t0 + 10:
            return ServerError("503", status_code=503)
        if t0 + 10 <= now < t0 + 12:
            return CircuitOpenError("held", retry_in=1.0)  # never sent: not counted
        return status(done=0)

    monitor = Monitor(store, EventBus(), clock=clock, settings=MonitorSettings(jitter=0.0))
    client = ScriptedClient(clock, answer)
    monitor.add_crew(crew_config(poll_min=1.0, poll_max=2.0), client)
    assert monitor.crew_stats("research").requests == 0
    monitor.track(accepted_run(store))
    await monitor.start()
    await clock.advance(20)
    await monitor.stop()
    stats = monitor.crew_stats("research")
    assert stats.crew == "research" and stats.requests_total == monitor.requests_sent("research")
    times = [at for at, _kid in client.calls]
    failed = sum(1 for at in times if t0 + 5 <= at < t0 + 10)
    held = sum(1 for at in times if t0 + 10 <= at < t0 + 12)
    assert failed > 0 and held > 0
    assert (stats.requests, stats.errors) == (len(times) - held, failed)
    assert stats.error_rate == stats.errors / stats.requests
    assert stats.latency_p50 is not None and stats.latency_p95 is not None
    assert stats.runs == 0 and stats.duration_p50 is None  # no run completed yet


async def test_completed_runs_feed_the_durations(store: RunStore) -> None:
    monitor = Monitor(store, EventBus(), clock=ManualClock())
    monitor.add_crew(crew_config(), ScriptedClient(ManualClock(), lambda k, n: status()))
    for seconds in (60.0, 90.0, 120.0):
        monitor.learn_duration("research", seconds)
    stats = monitor.crew_stats("research")
    assert (stats.runs, stats.duration_p50, stats.duration_p95) == (3, 90.0, 120.0)
