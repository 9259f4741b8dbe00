"""The Engine's facade for UNKNOWN kickoffs: adopt (checked with a status call, then
tracked), resend (same row, fresh request id), dismiss, and adoption by a webhook whose
meta carries the row's request id. Each is published and in the audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.errors import NotFoundError, ServerError, UnsupportedError
from crewdash.aop.models import RunState, RunStatus, Secret
from crewdash.core.config.model import Config, CrewConfig, TokenSource
from crewdash.core.engine import Engine, EngineError
from crewdash.core.models import KickoffPhase, RunChanged
from crewdash.core.runs.kickoff import META_KEY
from engine.fakes import open_store


class Client:
    def __init__(self) -> None:
        self.kickoffs: list[dict[str, Any]] = []
        self.fail_next: BaseException | None = None
        self.known = {"k-found"}
        self.stop_error: BaseException | None = None

    async def stop(self, kickoff_id: str) -> None:
        if self.stop_error is not None:
            raise self.stop_error

    async def kickoff(self, inputs, *, meta=None, webhooks=None, human_input_webhook=None):
        self.kickoffs.append(dict(meta))
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return f"k-{len(self.kickoffs)}"

    async def status(self, kickoff_id: str) -> RunStatus:
        if kickoff_id not in self.known and not kickoff_id.startswith("k-"):
            raise NotFoundError("no such run", status_code=404)
        return RunStatus(state=RunState.RUNNING, raw_state="running", current_task="t")

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def engine(tmp_path: Path):
    crew = CrewConfig(name="c", url="http://127.0.0.1:1/x", token=TokenSource(inline=Secret("t")))
    store = open_store(tmp_path)
    client = Client()
    engine = Engine(Config(path=None, crews={"c": crew}), store, client_factory=lambda c, t: client)
    engine.client_ = client  # type: ignore[attr-defined]
    await engine.start()
    yield engine
    await engine.stop()
    store.close()


async def _unknown(engine: Engine) -> str:
    engine.client_.fail_next = ServerError("boom", status_code=502)  # type: ignore[attr-defined]
    with pytest.raises(ServerError):
        await engine.kickoff("c", {"topic": "x"})
    [row] = [r for r in engine.runs() if r.phase is KickoffPhase.UNKNOWN]
    return row.local_id


async def test_adopt_checks_the_id_then_tracks_the_run(engine: Engine) -> None:
    local_id = await _unknown(engine)
    published: list[RunChanged] = []
    engine.subscribe(lambda e: published.append(e) if isinstance(e, RunChanged) else None)
    with pytest.raises(EngineError, match="does not know"):
        await engine.adopt(local_id, "nope")
    adopted = await engine.adopt(local_id, "k-found")
    assert adopted.phase is KickoffPhase.ACCEPTED and adopted.kickoff_id == "k-found"
    assert adopted.state is RunState.RUNNING and adopted.finished_at is None
    assert local_id in engine.monitor.tracked()
    assert published[-1].run == adopted
    actions = engine.run_actions(local_id)
    assert [a["action"] for a in actions] == ["kickoff", "adopt", "adopt"]
    assert actions[1]["server_answer"].startswith("HTTP 404")  # the id the server did not know
    assert actions[2]["server_answer"] == "2xx: status running"
    with pytest.raises(EngineError, match="not unknown"):
        engine.dismiss(local_id)


async def test_resend_uses_the_same_row_with_a_fresh_request_id(engine: Engine) -> None:
    local_id = await _unknown(engine)
    first = engine.run(local_id)
    assert first is not None
    resent = await engine.resend(local_id)
    assert resent.local_id == local_id and resent.phase is KickoffPhase.ACCEPTED
    assert resent.attempts == 2 and resent.request_id != first.request_id
    sent = [m[META_KEY] for m in engine.client_.kickoffs]  # type: ignore[attr-defined]
    assert sent == [first.request_id, resent.request_id]
    assert len(engine.runs()) == 1 and local_id in engine.monitor.tracked()


async def test_dismiss_and_webhook_adoption(engine: Engine) -> None:
    dismissed_id = await _unknown(engine)
    dismissed = engine.dismiss(dismissed_id, "checked the dashboard")
    assert dismissed.phase is KickoffPhase.REFUSED and "checked" in (dismissed.error or "")
    local_id = await _unknown(engine)
    record = engine.run(local_id)
    assert record is not None
    engine._on_delivery(
        "c", {"kickoff_id": "k-hook", "meta": {META_KEY: record.request_id}, "webhook": "task"}
    )
    adopted = engine.run(local_id)
    assert adopted is not None and adopted.phase is KickoffPhase.ACCEPTED
    assert adopted.kickoff_id == "k-hook" and local_id in engine.monitor.tracked()
    actions = engine.run_actions(local_id)
    assert [a["action"] for a in actions] == ["kickoff", "auto-adopt"]
    assert actions[-1]["channel"] == "webhook" and actions[-1]["user"] == "webhook"
    engine._on_delivery("c", {"kickoff_id": "k-other", "meta": {META_KEY: "unrelated"}})
    assert engine.run(dismissed_id).phase is KickoffPhase.REFUSED  # type: ignore[union-attr]


async def test_a_stop_is_audited_with_the_server_s_answer_taken_or_refused(
    engine: Engine,
) -> None:
    run = await engine.kickoff("c", {"topic": "x"})
    await engine.stop_run(run.local_id)
    engine.client_.stop_error = UnsupportedError("no /stop route", status_code=404)  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedError, match="cannot stop runs"):
        await engine.stop_run(run.local_id)
    stops = [a for a in engine.run_actions(run.local_id) if a["action"] == "stop"]
    assert [a["server_answer"] for a in stops] == ["2xx: stop accepted", "HTTP 404: no /stop route"]
    assert {a["detail"] for a in stops} == {f"kickoff id {run.kickoff_id}"}
