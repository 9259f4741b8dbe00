"""The simulator over real loopback HTTP: the OpenAPI contract, webhook deliveries (bearer,
signed flow requests, single-use callback), a restart on the same port. Plain httpx only."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "fixtures" / "crewai-amp-api.openapi.yaml").read_text()
)


def check_against_spec(path: str, method: str, response: httpx.Response) -> None:
    """Validate a JSON body against the spec's schema for this path, method and status."""
    declared = SPEC["paths"][path][method]["responses"][str(response.status_code)]
    if "$ref" in declared:
        declared = SPEC["components"]["responses"][declared["$ref"].rsplit("/", 1)[-1]]
    schema = declared["content"]["application/json"]["schema"]
    root = {**schema, "components": SPEC["components"]}
    jsonschema.Draft7Validator(root).validate(response.json())


class Receiver:
    """A webhook receiver served on loopback; records every delivery."""

    def __init__(self, status: int = 200, hang: bool = False) -> None:
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        self.changed = asyncio.Condition()
        self.status = status
        self.hang = hang
        self.release = asyncio.Event()
        self.app = Starlette(routes=[Route("/{hook:path}", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        async with self.changed:
            self.got.append((request.url.path, dict(request.headers), body))
            self.changed.notify_all()
        if self.hang:
            await self.release.wait()
        return JSONResponse({"ok": True}, status_code=self.status)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(b) for p, _, b in self.got if p == path]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), 5.0)


def auth(server: Any, crew: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(crew)}"}


async def poll_until(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], states: set[str]
) -> dict[str, Any]:
    for _ in range(400):
        body = (await http.get(url, headers=headers)).json()
        if body["status"] in states:
            return body
        await asyncio.sleep(0.01)  # polling the server under test, as a client would
    raise AssertionError(f"never reached {states}: {body}")


async def test_documented_routes_match_the_openapi_spec(sim_server: Any) -> None:
    base, h = sim_server.crew_url("review"), auth(sim_server, "review")
    async with httpx.AsyncClient() as http:
        check_against_spec("/inputs", "get", await http.get(base + "/inputs", headers=h))
        check_against_spec("/inputs", "get", await http.get(base + "/inputs"))  # 401
        r = await http.post(base + "/kickoff", headers=h, json={"inputs": {"tone": "x"}})
        assert r.status_code == 422
        check_against_spec("/kickoff", "post", r)
        check_against_spec(
            "/kickoff", "post", await http.post(base + "/kickoff", headers=h, content=b"[]")
        )  # 400
        r = await http.post(base + "/kickoff", headers=h, json={"inputs": {"brief": "b"}})
        check_against_spec("/kickoff", "post", r)
        kid = r.json()["kickoff_id"]
        assert uuid.UUID(kid).version == 4
        running = await poll_until(http, f"{base}/status/{kid}", h, {"running"})
        assert running["progress"]["total_tasks"] == 3
        check_against_spec(
            "/status/{kickoff_id}", "get", await http.get(f"{base}/status/{kid}", headers=h)
        )
        check_against_spec(
            "/status/{kickoff_id}", "get", await http.get(f"{base}/status/nope", headers=h)
        )  # 404
        resume = {
            "execution_id": kid,
            "task_id": "review",
            "human_feedback": "ok",
            "is_approve": True,
        }
        r = await http.post(base + "/resume", headers=h, json=resume)
        if r.status_code == 400:  # still running: the documented 400 body
            check_against_spec("/resume", "post", r)
        await poll_until(http, f"{base}/status/{kid}", h, {"Pending Human Input"})
        r = await http.post(base + "/resume", headers=h, json=resume)
        check_against_spec("/resume", "post", r)
        assert r.json()["status"] == "resumed"
        check_against_spec(
            "/resume",
            "post",
            await http.post(base + "/resume", headers=h, json={**resume, "execution_id": "x"}),
        )  # 404
        done = await poll_until(http, f"{base}/status/{kid}", h, {"completed"})
        check_against_spec(
            "/status/{kickoff_id}", "get", await http.get(f"{base}/status/{kid}", headers=h)
        )
        assert "ok" in done["result"]["output"]
        fb, fh = sim_server.crew_url("failing"), auth(sim_server, "failing")
        fid = (await http.post(fb + "/kickoff", headers=fh, json={"inputs": {"x": "1"}})).json()
        await poll_until(http, f"{fb}/status/{fid['kickoff_id']}", fh, {"error"})
        check_against_spec(
            "/status/{kickoff_id}",
            "get",
            await http.get(f"{fb}/status/{fid['kickoff_id']}", headers=fh),
        )


async def test_crew_webhooks_and_human_input_webhook_with_bearer(
    sim_server: Any, sim_serve: Any, sim_stats: Any
) -> None:
    receiver = Receiver()
    async with sim_serve(receiver.app) as hooks:
        base, h = sim_server.crew_url("review"), auth(sim_server, "review")
        urls = {
            k: f"{hooks.url}/{k}" for k in ("taskWebhookUrl", "stepWebhookUrl", "crewWebhookUrl")
        }
        body = {
            "inputs": {"brief": "b"},
            "meta": {"crewdash_request_id": "r-1"},
            **urls,
            "humanInputWebhook": {
                "url": hooks.url + "/hitl",
                "authentication": {"strategy": "bearer", "token": "hook-tk"},
            },
        }
        async with httpx.AsyncClient() as http:
            kid = (await http.post(base + "/kickoff", headers=h, json=body)).json()["kickoff_id"]
            await receiver.wait_for(lambda: bool(receiver.bodies("/hitl")))
            _, headers, raw = next(g for g in receiver.got if g[0] == "/hitl")
            assert headers["authorization"] == "Bearer hook-tk"
            hitl = json.loads(raw)
            assert (hitl["execution_id"], hitl["task_id"]) == (kid, "review")
            assert hitl["output"] and hitl["prompt"] and hitl["meta"] == body["meta"]
            tasks = receiver.bodies("/taskWebhookUrl")
            assert [t["task_id"] for t in tasks] == ["draft", "review"]
            assert tasks[1]["human_input_required"] is True
            assert len(receiver.bodies("/stepWebhookUrl")) == 4
            # /resume without the webhook URLs: they are not carried over
            resume = {
                "execution_id": kid,
                "task_id": "review",
                "human_feedback": "fine",
                "is_approve": True,
                "crewWebhookUrl": urls["crewWebhookUrl"],
            }
            assert (await http.post(base + "/resume", headers=h, json=resume)).status_code == 200
            await receiver.wait_for(lambda: bool(receiver.bodies("/crewWebhookUrl")))
        final = receiver.bodies("/crewWebhookUrl")[0]
        assert final["status"] == "completed" and "fine" in final["result"]["output"]
        assert [t["task_id"] for t in receiver.bodies("/taskWebhookUrl")] == ["draft", "review"]
        stats = await sim_stats(sim_server)
        assert stats["webhooks"]["failed"] == 0 and stats["webhooks"]["sent"] == len(receiver.got)


async def test_flow_hitl_is_signed_and_its_callback_is_single_use(
    sim_server: Any, sim_serve: Any, sim_stats: Any
) -> None:
    receiver = Receiver()
    async with sim_serve(receiver.app) as hooks, httpx.AsyncClient() as http:
        control = {
            "crew": "flow",
            "flow_webhook": {
                "url": hooks.url + "/flow",
                "secret": "s3cret",
                "sla_target_minutes": 30,
                "assigned_to": "ops",
            },
        }
        assert (await http.post(sim_server.url + "/_sim/control", json=control)).status_code == 200
        base, h = sim_server.crew_url("flow"), auth(sim_server, "flow")
        kid = (
            await http.post(base + "/kickoff", headers=h, json={"inputs": {"amount": "9"}})
        ).json()
        await receiver.wait_for(lambda: bool(receiver.got))
        _, headers, raw = receiver.got[0]
        ts = headers["x-crewai-timestamp"]
        mac = hmac.new(b"s3cret", ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-crewai-signature"], "sha256=" + mac)
        request = json.loads(raw)
        assert request["event_type"] == "new_request"
        assert request["emit"] == ["approve", "reject", "escalate"]
        assert request["kickoff_id"] == kid["kickoff_id"] and request["assigned_to"] == "ops"
        answer = {"feedback": "reject: missing receipt", "source": "crewdash"}
        assert (await http.post(request["callback_url"], json=answer)).status_code == 401
        first = await http.post(request["callback_url"], json=answer, headers=h)
        assert first.status_code == 200 and first.json()["outcome"] == "reject"
        second = await http.post(request["callback_url"], json=answer, headers=h)
        assert second.status_code == 409 and second.json()["error"] == "already_responded"
        # reject re-runs the step with the feedback and asks again, with a new callback
        await receiver.wait_for(lambda: len(receiver.got) == 2)
        again = json.loads(receiver.got[1][2])
        assert (
            "missing receipt" in again["output"]
            and again["callback_url"] != request["callback_url"]
        )
        ok = await http.post(
            again["callback_url"], json={"feedback": "approve", "source": "x"}, headers=h
        )
        assert ok.json()["outcome"] == "approve"
        done = await poll_until(http, f"{base}/status/{kid['kickoff_id']}", h, {"completed"})
        assert "approve" in done["result"]["output"]
    stats = await sim_stats(sim_server)
    assert [c["status"] for c in stats["callbacks"]] == [401, 200, 409, 200]


async def test_webhook_sender_gives_up_after_its_timeout_and_never_retries(
    sim_app_factory: Any, sim_serve: Any
) -> None:
    receiver = Receiver(hang=True)
    app = sim_app_factory("testing", webhook_timeout=0.2)
    async with sim_serve(receiver.app) as hooks, sim_serve(app) as sim, httpx.AsyncClient() as http:
        body = {"inputs": {"topic": "t"}, "crewWebhookUrl": hooks.url + "/crew"}
        await http.post(sim.crew_url("basic") + "/kickoff", headers=auth(sim, "basic"), json=body)
        await receiver.wait_for(lambda: bool(receiver.got))
        await app.deliverer.drain()
        stats = sim.stats()
        receiver.release.set()
    assert stats["webhooks"]["failed"] == 1 and stats["webhooks"]["sent"] == 0
    assert stats["webhooks"]["deliveries"][0]["error"] == "ReadTimeout"
    assert len(receiver.got) == 1


async def test_server_down_and_back_on_the_same_port_keeps_runs(
    sim_app_factory: Any, sim_serve: Any
) -> None:
    app = sim_app_factory("testing")
    async with sim_serve(app) as sim, httpx.AsyncClient() as http:
        port, h = sim.port, auth(sim, "basic")
        kid = (
            await http.post(
                sim.crew_url("basic") + "/kickoff", headers=h, json={"inputs": {"topic": "t"}}
            )
        ).json()["kickoff_id"]
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/crews/basic/", headers=h)
    async with sim_serve(app, port) as again, httpx.AsyncClient() as http:
        assert again.port == port
        done = await poll_until(http, f"{again.crew_url('basic')}/status/{kid}", h, {"completed"})
        assert done["result"]["output"] == "# Report on t"


async def test_dropped_connection_is_seen_by_a_real_client(sim_server: Any) -> None:
    sim_server.app.configure("basic", offline=True, offline_mode="drop")
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(sim_server.crew_url("basic") + "/", headers=auth(sim_server, "basic"))
    sim_server.app.configure("basic", offline=False)
    async with httpx.AsyncClient() as http:
        r = await http.get(sim_server.crew_url("basic") + "/", headers=auth(sim_server, "basic"))
    assert r.text == "Healthy"
