"""The engine's health probe: every crew checked on start, idle crews every minute, crews with
polled runs left to the monitor, an offline crew logged once, on a manual clock."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.errors import AuthenticationError, ConnectionFailedError, ServerError
from crewdash.aop.models import RunStatus
from crewdash.core.config.model import Config, CrewConfig
from crewdash.core.engine import Engine
from crewdash.core.models import CrewHealth, CrewHealthChanged
from crewdash.core.monitor.probe import latency_text
from engine.fakes import ManualClock, accepted_run, crew_config, open_store, status


class ProbedClient:
    """`health()` answers from `self.answer` (a latency or an exception); `status` says running."""

    def __init__(self, clock: ManualClock, answer: float | BaseException = 0.012) -> None:
        self.clock = clock
        self.answer = answer
        self.probes: list[float] = []
        self.polls = 0

    async def health(self) -> float:
        self.probes.append(self.clock.now)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def status(self, kickoff_id: str) -> RunStatus:
        self.polls += 1
        return status()

    async def aclose(self) -> None:
        return None


def make_engine(
    tmp_path: Path, clients: dict[str, ProbedClient], clock: ManualClock
) -> tuple[Engine, list[CrewHealthChanged]]:
    crews: dict[str, CrewConfig] = {name: crew_config(name) for name in clients}
    engine = Engine(
        Config(path=None, crews=crews),
        open_store(tmp_path),
        clock=clock,
        client_factory=lambda crew, token: clients[crew.name],
    )
    events: list[CrewHealthChanged] = []
    engine.subscribe(lambda e: events.append(e) if isinstance(e, CrewHealthChanged) else None)
    return engine, events


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X", "secret-token")


async def test_every_crew_is_probed_on_start_and_idle_ones_every_minute(tmp_path: Path) -> None:
    clock = ManualClock()
    fast, slow = ProbedClient(clock, 0.012), ProbedClient(clock, 3.5)
    engine, events = make_engine(tmp_path, {"fast": fast, "slow": slow}, clock)
    await engine.start()
    try:
        await clock.advance(0.1)
        assert engine.crew_health("fast") == (CrewHealth.OK, "ok")
        assert engine.crew_latency("fast") == pytest.approx(0.012)
        assert engine.crew_health("slow") == (CrewHealth.SLOW, "slow: answers take 3.5 s")
        assert {(e.crew, e.health) for e in events} == {
            ("fast", CrewHealth.OK),
            ("slow", CrewHealth.SLOW),
        }
        await clock.advance(59.0)
        assert len(fast.probes) == 1  # not before the minute is up
        await clock.advance(2.0)
        assert len(fast.probes) == 2 and len(slow.probes) == 2
        assert len(events) == 2  # the same health again is not news
    finally:
        await engine.stop()
        engine.store.close()


async def test_a_crew_with_a_polled_run_is_left_to_the_monitor(tmp_path: Path) -> None:
    clock = ManualClock()
    busy, idle = ProbedClient(clock), ProbedClient(clock)
    engine, _ = make_engine(tmp_path, {"busy": busy, "idle": idle}, clock)
    accepted_run(engine.store, crew="busy")  # unfinished: tracked on start
    await engine.start()
    try:
        await clock.advance(200.0)
        assert busy.polls > 0
        assert len(busy.probes) == 1  # the probe on start only
        assert len(idle.probes) == 4  # start, 60, 120, 180
    finally:
        await engine.stop()
        engine.store.close()


async def test_an_offline_crew_is_logged_once_and_its_return_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    down = ProbedClient(
        clock, ConnectionFailedError("connection refused", may_have_reached_server=False)
    )
    engine, events = make_engine(tmp_path, {"down": down}, clock)
    caplog.set_level(logging.INFO, logger="crewdash.core.monitor.probe")
    await engine.start()
    try:
        await clock.advance(300.0)
        # one failed check is "flaky", checked again after 10 s; offline after 3 failures in
        # a row and 30 s without a pass; then every minute
        assert down.probes == [1000.0, 1010.0, 1020.0, 1030.0, 1090.0, 1150.0, 1210.0, 1270.0]
        health, detail = engine.crew_health("down")
        assert health is CrewHealth.OFFLINE and detail.startswith("crew offline since ")
        assert [e.health for e in events] == [CrewHealth.SLOW, CrewHealth.OFFLINE]
        assert events[0].detail == (
            "flaky: some requests fail (connection errors); runs are still followed"
        )
        assert len(caplog.records) == 1
        down.answer = 0.02
        await clock.advance(60.0)
        assert engine.crew_health("down") == (CrewHealth.OK, "ok")
        assert [e.health for e in events] == [
            CrewHealth.SLOW,
            CrewHealth.OFFLINE,
            CrewHealth.OK,
        ]
        assert len(caplog.records) == 2 and "back" in caplog.records[1].getMessage()
    finally:
        await engine.stop()
        engine.store.close()


async def test_a_rejected_token_is_told(tmp_path: Path) -> None:
    clock = ManualClock()
    client = ProbedClient(clock, AuthenticationError("401", status_code=401))
    engine, events = make_engine(tmp_path, {"c": client}, clock)
    await engine.start()
    try:
        await clock.advance(0.1)
        assert engine.crew_health("c")[0] is CrewHealth.TOKEN_REJECTED
        assert "token" in engine.crew_health("c")[1]
        assert "secret-token" not in repr(events)
    finally:
        await engine.stop()
        engine.store.close()


async def test_a_poll_after_an_offline_probe_brings_the_monitors_view(tmp_path: Path) -> None:
    clock = ManualClock()
    client = ProbedClient(clock, ConnectionFailedError("refused", may_have_reached_server=False))
    engine, events = make_engine(tmp_path, {"c": client}, clock)
    await engine.start()
    try:
        await clock.run_until(lambda: engine.crew_health("c")[0] is CrewHealth.OFFLINE, 60)
        record = accepted_run(engine.store, crew="c")
        engine.monitor.track(record)  # the crew answers polls again
        await clock.run_until(lambda: client.polls > 0, 10)
        assert engine.crew_health("c")[0] is CrewHealth.OK
        assert events[-1].health is CrewHealth.OK
    finally:
        await engine.stop()
        engine.store.close()


async def test_one_failed_check_is_flaky_and_the_next_pass_clears_it(tmp_path: Path) -> None:
    """Issue 11 #7b: a crew answering the odd 5xx is not shown offline for a minute."""
    clock = ManualClock()
    client = ProbedClient(clock, ServerError("502 Bad Gateway", status_code=502))
    engine, events = make_engine(tmp_path, {"c": client}, clock)
    await engine.start()
    try:
        await clock.advance(0.1)
        assert engine.crew_health("c")[0] is CrewHealth.SLOW
        assert engine.crew_health("c")[1].startswith("flaky: ")
        client.answer = 0.012
        await clock.advance(10.0)  # checked again soon, not a minute later
        assert len(client.probes) == 2
        assert engine.crew_health("c") == (CrewHealth.OK, "ok")
        assert CrewHealth.OFFLINE not in {e.health for e in events}
    finally:
        await engine.stop()
        engine.store.close()


def test_latency_words() -> None:
    assert latency_text(0.012) == "12 ms"
    assert latency_text(0.0001) == "1 ms"
    assert latency_text(1.44) == "1.4 s"


class TokenlessHealthClient(ProbedClient):
    """A deployment whose `GET /` answers without looking at the token (as AOP's may) while
    every request with the token gets 401 until `token_ok` is set."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock, 0.012)
        self.token_ok = False

    def _check(self) -> None:
        if not self.token_ok:
            raise AuthenticationError("token rejected (401)", status_code=401)

    async def inputs(self) -> list[Any]:
        self._check()
        return []

    async def kickoff(self, inputs: Any, **kwargs: Any) -> str:
        self._check()
        return "k-1"

    async def stop(self, kickoff_id: str) -> None:
        self._check()

    async def resume(self, kickoff_id: str, task_id: str, feedback: str, approve: bool) -> None:
        self._check()

    async def status(self, kickoff_id: str) -> RunStatus:
        self.polls += 1
        self._check()
        return status()


@pytest.mark.parametrize("request_kind", ["inputs", "kickoff", "stop"])
async def test_a_401_on_any_request_marks_the_token_rejected_and_a_passing_probe_keeps_it(
    tmp_path: Path, request_kind: str
) -> None:
    """Issue 11 #7a: the health check passes (it needs no token), /inputs and /kickoff 401."""
    clock = ManualClock()
    client = TokenlessHealthClient(clock)
    engine, events = make_engine(tmp_path, {"c": client}, clock)  # type: ignore[dict-item]
    await engine.start()
    try:
        await clock.advance(0.1)
        assert engine.crew_health("c") == (CrewHealth.OK, "ok")  # the probe's word
        with pytest.raises(AuthenticationError):
            if request_kind == "inputs":
                await engine.inputs("c")
            elif request_kind == "kickoff":
                await engine.kickoff("c", {})
            else:
                run = accepted_run(engine.store, crew="c")
                await engine.stop_run(run.local_id)
        assert engine.crew_health("c")[0] is CrewHealth.TOKEN_REJECTED
        assert events[-1].crew == "c" and events[-1].health is CrewHealth.TOKEN_REJECTED
        await clock.advance(125.0)  # the probe passes twice more: still rejected
        assert len(client.probes) == 3
        assert engine.crew_health("c")[0] is CrewHealth.TOKEN_REJECTED
        assert "secret-token" not in repr(events)

        client.token_ok = True  # fixed on the server: the next request with it succeeds
        await engine.inputs("c")
        assert engine.crew_health("c") == (CrewHealth.OK, "ok")
        assert events[-1].health is CrewHealth.OK
    finally:
        await engine.stop()
        engine.store.close()


async def test_a_401_of_a_resume_parks_the_crews_runs(tmp_path: Path) -> None:
    clock = ManualClock()
    client = TokenlessHealthClient(clock)
    client.token_ok = True
    engine, _events = make_engine(tmp_path, {"c": client}, clock)  # type: ignore[dict-item]
    run = accepted_run(engine.store, crew="c")
    await engine.start()
    try:
        await clock.run_until(lambda: client.polls > 0, 10)
        assert run.local_id in engine.monitor.tracked()
        client.token_ok = False
        with pytest.raises(AuthenticationError):
            await engine.client("c").resume(run.kickoff_id, "t", "ok", True)
        assert engine.crew_health("c")[0] is CrewHealth.TOKEN_REJECTED
        assert engine.monitor.tracked() == set()  # no blind polling with a rejected token
    finally:
        await engine.stop()
        engine.store.close()
