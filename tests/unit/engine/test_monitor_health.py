"""A crew's health as a state machine: synchronous, clocks passed in, events returned."""

from __future__ import annotations

from crewdash.core.models import CrewHealth
from crewdash.core.monitor.health import NOTE_TOKEN, HealthState, held_detail
from crewdash.core.monitor.settings import MonitorSettings

S = MonitorSettings(
    offline_after_failures=3, offline_after_seconds=10.0, flaky_window=5, flaky_after=2
)


def state() -> HealthState:
    return HealthState("research", S)


def test_a_fast_answer_is_ok_and_says_so_once() -> None:
    h = state()
    event = h.succeeded(0.05, now=1.0, wall=1000.0)
    assert event is not None and (event.crew, event.health, event.detail) == (
        "research",
        CrewHealth.OK,
        "ok",
    )
    assert event.since == 1000.0
    assert h.succeeded(0.05, now=2.0, wall=1001.0) is None  # nothing changed: no event


def test_slow_answers_on_average_make_it_slow() -> None:
    h = state()
    h.succeeded(5.0, now=1.0, wall=1.0)
    assert h.health is CrewHealth.SLOW and h.detail.startswith("slow: ")


def test_one_failure_is_no_news_two_are_flaky() -> None:
    h = state()
    h.succeeded(0.05, now=0.0, wall=0.0)
    assert h.failed("server", now=1.0, wall=1.0) is None
    event = h.failed("server", now=2.0, wall=2.0)
    assert event is not None and event.health is CrewHealth.SLOW
    assert h.detail.startswith("flaky: ")
    # Successes while enough of the recent ones failed keep the words it has.
    assert h.succeeded(0.05, now=3.0, wall=3.0) is None


def test_offline_takes_failures_in_a_row_and_a_silence() -> None:
    h = state()
    for t in (1.0, 2.0, 3.0, 4.0):  # failures enough, but only 3 s since the first
        h.failed("connection", now=t, wall=100.0 + t)
    assert (h.offline_since, h.health) == (None, CrewHealth.SLOW)
    event = h.failed("connection", now=11.5, wall=111.5)
    assert event is not None and event.health is CrewHealth.OFFLINE
    assert (h.offline_since, event.since) == (111.5, 111.5)
    assert h.failed("connection", now=12.0, wall=112.0) is None  # offline stays offline


def test_one_success_ends_an_outage_and_forgets_its_failures() -> None:
    h = state()
    for t in (0.0, 5.0, 11.0):
        h.failed("timeout", now=t, wall=t)
    assert h.health is CrewHealth.OFFLINE
    event = h.succeeded(0.05, now=12.0, wall=12.0)
    assert event is not None and event.health is CrewHealth.OK
    assert h.offline_since is None and h.failures == 0


def test_requests_held_back_are_no_evidence() -> None:
    h = state()
    for t in range(20):
        h.failed("circuit_open", now=float(t * 10), wall=0.0, held=True)
    assert h.offline_since is None and h.failures == 0
    assert (h.health, h.detail) == (CrewHealth.SLOW, held_detail(0))


def test_a_rejected_token_parks_until_replaced_or_accepted() -> None:
    h = state()
    event = h.reject(wall=5.0)
    assert event is not None and (event.health, event.detail) == (
        CrewHealth.TOKEN_REJECTED,
        NOTE_TOKEN,
    )
    assert h.rejected and h.reject(wall=6.0) is None
    event = h.unreject(CrewHealth.UNKNOWN, "token replaced; checking", wall=7.0)
    assert event is not None and (h.rejected, h.health) == (False, CrewHealth.UNKNOWN)
