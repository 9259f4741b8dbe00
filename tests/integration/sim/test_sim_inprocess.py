"""Every route's behaviour, in-process through httpx.ASGITransport with a manual clock.

Plain httpx only: these tests must not share code with crewdash.aop (the other side).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crewdash.sim import ManualClock, SimApp, quick_scenario
from crewdash.sim.faults import DropConnection


@dataclass
class Sim:
    app: SimApp
    clock: ManualClock
    http: httpx.AsyncClient

    def h(self, crew: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.app.token(crew)}"}

    async def get(self, crew: str, path: str) -> httpx.Response:
        return await self.http.get(f"/crews/{crew}{path}", headers=self.h(crew))

    async def post(self, crew: str, path: str, body: Any) -> httpx.Response:
        return await self.http.post(f"/crews/{crew}{path}", headers=self.h(crew), json=body)

    async def kickoff(self, crew: str, inputs: dict[str, Any]) -> str:
        response = await self.post(crew, "/kickoff", {"inputs": inputs})
        assert response.status_code == 200, response.text
        return response.json()["kickoff_id"]


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    clock = ManualClock()
    app = SimApp(quick_scenario(), clock=clock, seed=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        yield Sim(app, clock, http)
    await app.aclose()


async def test_every_crew_route_needs_its_own_token(sim: Sim) -> None:
    wrong = {"Authorization": f"Bearer {sim.app.token('review')}"}
    for path in ("/", "/inputs", "/status/x"):
        assert (await sim.http.get("/crews/basic" + path, headers=wrong)).status_code == 401
        assert (await sim.http.get("/crews/basic" + path)).status_code == 401
    ok = await sim.get("basic", "/")
    assert (ok.status_code, ok.text) == (200, "Healthy")
    assert (await sim.get("basic", "")).text == "Healthy"


async def test_inputs_come_in_three_shapes(sim: Sim) -> None:
    assert (await sim.get("basic", "/inputs")).json() == {"inputs": ["topic"]}
    assert (await sim.get("review", "/inputs")).json() == {
        "inputs": ["brief", "tone"],
        "required_inputs": ["brief"],
    }
    typed = (await sim.get("legacy", "/inputs")).json()["inputs"]
    assert {i["name"]: i["type"] for i in typed}["mode"] == "enum"
    assert next(i for i in typed if i["name"] == "mode")["options"] == ["a", "b"]
    assert next(i for i in typed if i["name"] == "flag")["required"] is False


async def test_kickoff_validates_body_and_required_inputs(sim: Sim) -> None:
    bad = await sim.http.post("/crews/basic/kickoff", headers=sim.h("basic"), content=b"{nope")
    assert bad.status_code == 400
    assert (await sim.post("basic", "/kickoff", {"inputs": "x"})).status_code == 400
    missing = await sim.post("review", "/kickoff", {"inputs": {"tone": "dry"}})
    assert missing.status_code == 422
    assert missing.json()["details"]["missing_inputs"] == ["brief"]
    wrong_type = await sim.post("legacy", "/kickoff", {"inputs": {"count": "many", "ratio": 1}})
    assert (
        wrong_type.status_code == 422 and "count" in wrong_type.json()["details"]["invalid_inputs"]
    )
    assert await sim.kickoff("legacy", {"count": "3", "ratio": 0.5, "mode": "a", "extra": {"k": 1}})
    ids = {await sim.kickoff("basic", {"topic": "t"}) for _ in range(5)}
    assert len(ids) == 5
    stats = sim.app.stats_snapshot()
    assert stats["kickoffs_accepted"] == 6


async def test_a_run_goes_pending_running_completed(sim: Sim) -> None:
    kid = await sim.kickoff("basic", {"topic": "owls"})
    seen = []
    for _ in range(6):
        body = (await sim.get("basic", f"/status/{kid}")).json()
        seen.append(body["status"])
        sim.clock.advance(0.5)
    assert seen[0] == "pending" and "running" in seen and seen[-1] == "completed"
    body = (await sim.get("basic", f"/{kid}/status")).json()
    assert body["result"]["output"] == "# Report on owls"
    assert [t["agent"] for t in body["result"]["tasks"]] == ["Researcher", "Writer"]
    assert body["execution_time"] > 0


async def test_status_route_styles_and_error_field(sim: Sim) -> None:
    kid = await sim.kickoff("legacy", {"count": 1, "ratio": 1})
    assert (await sim.get("legacy", f"/status/{kid}")).status_code == 404
    assert (await sim.get("legacy", f"/{kid}/status")).status_code == 200
    assert (await sim.get("basic", "/status/unknown-id")).status_code == 404
    fid = await sim.kickoff("failing", {"x": "X"})
    sim.clock.advance(3)
    body = (await sim.get("failing", f"/status/{fid}")).json()
    assert body == {"status": "error", "error": "Boom on X", "execution_time": 2.5}


async def test_runs_expire(sim: Sim) -> None:
    kid = await sim.kickoff("legacy", {"count": 1, "ratio": 1})
    sim.clock.advance(2)
    assert (await sim.get("legacy", f"/{kid}/status")).json()["status"] == "completed"
    sim.clock.advance(29)
    assert (await sim.get("legacy", f"/{kid}/status")).status_code == 200
    sim.clock.advance(2)
    assert (await sim.get("legacy", f"/{kid}/status")).status_code == 404


async def test_human_input_resume_reject_then_approve(sim: Sim) -> None:
    kid = await sim.kickoff("review", {"brief": "launch"})
    resume = {"execution_id": kid, "task_id": "review", "human_feedback": "x", "is_approve": True}
    assert (await sim.post("review", "/resume", resume)).status_code == 400  # not paused yet
    sim.clock.advance(2.6)
    paused = (await sim.get("review", f"/status/{kid}")).json()
    assert paused["status"] == "Pending Human Input" and paused["task_id"] == "review"
    assert paused["output"] == "Reviewed draft of launch" and paused["prompt"]
    assert (await sim.post("review", "/resume", {**resume, "task_id": "draft"})).status_code == 404
    assert (
        await sim.post("review", "/resume", {**resume, "execution_id": "nope"})
    ).status_code == 404
    assert (await sim.post("review", "/resume", {"execution_id": kid})).status_code == 400
    r = await sim.post(
        "review", "/resume", {**resume, "human_feedback": "Cite the 3x claim", "is_approve": False}
    )
    assert r.json()["status"] == "retrying"
    sim.clock.advance(1.1)
    again = (await sim.get("review", f"/status/{kid}")).json()
    assert again["status"] == "Pending Human Input" and "Cite the 3x claim" in again["output"]
    r = await sim.post("review", "/resume", {**resume, "human_feedback": "Approved, ship"})
    assert r.json() == {"status": "resumed", "message": "Execution resumed successfully"}
    sim.clock.advance(1.1)
    done = (await sim.get("review", f"/status/{kid}")).json()
    assert done["status"] == "completed" and "Approved, ship" in done["result"]["output"]
    received = [
        x["body"]["human_feedback"]
        for x in sim.app.stats_snapshot()["resumes"]
        if isinstance(x["body"], dict) and x["status"] == 200
    ]
    assert received == ["Cite the 3x claim", "Approved, ship"]


async def test_flow_pause_spelling_and_emit(sim: Sim) -> None:
    kid = await sim.kickoff("flow", {"amount": "12 EUR"})
    sim.clock.advance(1.6)
    body = (await sim.get("flow", f"/status/{kid}")).json()
    assert body["status"] == "awaiting_human_feedback"
    assert (
        body["emit"] == ["approve", "reject", "escalate"] and body["message"] == "Decide on 12 EUR"
    )
    resume = {
        "execution_id": kid,
        "task_id": "check",
        "human_feedback": "escalate: over limit",
        "is_approve": True,
    }
    assert (await sim.post("flow", "/resume", resume)).json()["status"] == "resumed"
    sim.clock.advance(1.1)
    done = (await sim.get("flow", f"/status/{kid}")).json()
    assert "escalate" in done["result"]["output"]


async def test_stop_variants(sim: Sim) -> None:
    kid = await sim.kickoff("basic", {"topic": "t"})
    sim.clock.advance(1)
    assert (await sim.post("basic", f"/stop/{kid}", {})).json()["status"] == "stopped"
    assert (await sim.get("basic", f"/status/{kid}")).json()["status"] == "stopped"
    assert (await sim.post("basic", f"/stop/{kid}", {})).status_code == 400
    assert (await sim.post("basic", "/stop/unknown", {})).status_code == 404
    lid = await sim.kickoff("legacy", {"count": 1, "ratio": 1})
    assert (await sim.post("legacy", f"/stop/{lid}", {})).status_code == 405
    assert sim.app.stats_snapshot()["stops"] == 4


async def test_faults_html_5xx_bad_bodies_and_drops(sim: Sim) -> None:
    sim.app.configure("basic", faults={"error_rate": 1.0, "html_error_fraction": 1.0})
    r = await sim.get("basic", "/inputs")
    assert r.status_code in (500, 502, 503, 504) and r.text.lstrip().startswith("<!DOCTYPE html>")
    sim.app.configure("basic", faults={"error_rate": 0.0, "bad_body_rate": 1.0})
    bodies = [await sim.get("basic", "/inputs") for _ in range(10)]
    for body in bodies:
        with pytest.raises(ValueError):
            body.json()
    sim.app.configure("basic", faults={"bad_body_rate": 0.0, "drop_rate": 1.0})
    with pytest.raises(DropConnection):
        await sim.get("basic", "/inputs")
    sim.app.configure("basic", faults={"drop_rate": 0.0, "latency": 2.0})
    before = sim.clock.monotonic()
    assert (await sim.get("basic", "/inputs")).status_code == 200
    assert sim.clock.monotonic() - before == pytest.approx(2.0)
    faults = sim.app.stats_snapshot()["faults"]["basic"]
    assert faults["bad_body"] == 10 and faults["drop"] == 1


async def test_rate_limit_429_with_retry_after(sim: Sim) -> None:
    sim.app.configure("basic", faults={"rate_limit": 2, "rate_window": 10.0})
    codes = [(await sim.get("basic", "/")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = await sim.get("basic", "/")
    assert int(limited.headers["Retry-After"]) == 10
    sim.clock.advance(10.1)
    assert (await sim.get("basic", "/")).status_code == 200


async def test_control_switches_a_crew_offline_and_back(sim: Sim) -> None:
    r = await sim.http.post("/_sim/control", json={"crew": "basic", "offline": True})
    assert r.json()["offline"] is True
    down = await sim.get("basic", "/")
    assert down.status_code == 503 and "<html>" in down.text
    assert (await sim.get("review", "/")).status_code == 200  # the others stay up
    await sim.http.post("/_sim/control", json={"crew": "basic", "offline_mode": "drop"})
    with pytest.raises(DropConnection):
        await sim.get("basic", "/")
    await sim.http.post("/_sim/control", json={"crew": "basic", "offline": False})
    assert (await sim.get("basic", "/")).text == "Healthy"
    bad = await sim.http.post("/_sim/control", json={"crew": "nope", "offline": True})
    assert bad.status_code == 400
    remote = httpx.ASGITransport(app=sim.app, client=("10.0.0.5", 1234))
    async with httpx.AsyncClient(transport=remote, base_url="http://sim") as outsider:
        assert (await outsider.post("/_sim/control", json={"crew": "basic"})).status_code == 403


async def test_stats_count_requests_per_route_and_status(sim: Sim) -> None:
    await sim.get("basic", "/")
    await sim.http.get("/crews/basic/")
    stats = (await sim.http.get("/_sim/stats")).json()
    assert stats["requests"]["basic"]["GET /"] == {"200": 1, "401": 1}
    assert stats["requests_total"] == 2
    await sim.http.post("/_sim/control", json={"reset_stats": True})
    assert (await sim.http.get("/_sim/stats")).json()["requests_total"] == 0


async def test_same_seed_same_ids(sim: Sim) -> None:
    first = await sim.kickoff("basic", {"topic": "a"})
    other = SimApp(quick_scenario(), clock=ManualClock(), seed=3)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://s"
    ) as h:
        r = await h.post(
            "/crews/basic/kickoff", headers=sim.h("basic"), json={"inputs": {"topic": "a"}}
        )
    assert r.json()["kickoff_id"] == first
