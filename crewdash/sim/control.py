"""The simulator's own routes, `/_sim/*`: its stats, run-time control (loopback only) and
the callbacks a flow's human-input request points at."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crewdash.sim.crew_state import CallbackError
from crewdash.sim.responses import error, json_body
from crewdash.sim.scenario import CrewSpec, FlowWebhook

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


async def sim_stats(app: SimApp, request: Request) -> Response:
    return JSONResponse(app.stats_snapshot())


async def sim_control(app: SimApp, request: Request) -> Response:
    client = request.client.host if request.client else ""
    if client not in _LOOPBACK:
        return error(403, "Forbidden", "control is accepted from loopback only")
    body = await json_body(request)
    if not isinstance(body, dict):
        return error(400, "Bad Request", "The body must be a JSON object")
    if body.get("reset_stats"):
        app.stats.reset()
    if "crew" not in body:
        return JSONResponse({"ok": True})
    try:
        changes: dict[str, Any] = {
            k: body[k] for k in ("offline", "offline_mode", "faults") if k in body
        }
        if "flow_webhook" in body:
            hook = body["flow_webhook"]
            changes["flow_webhook"] = FlowWebhook(**hook) if hook else None
        spec = app.configure(str(body["crew"]), **changes)
    except (KeyError, TypeError, ValueError) as exc:
        return error(400, "Bad Request", str(exc))
    return JSONResponse(_describe(spec))


async def sim_callback(app: SimApp, request: Request) -> Response:
    body = await json_body(request)
    record: dict[str, Any] = {"token": request.path_params["token"], "body": body}
    app.stats.callbacks.append(record)
    response = _callback(app, request, body)
    record["status"] = response.status_code
    app.stats.count("_sim", "POST /_sim/callbacks/{token}", response.status_code)
    return response


def _callback(app: SimApp, request: Request, body: Any) -> Response:
    entry = app._callbacks.get(request.path_params["token"])
    if entry is not None:
        expected = f"Bearer {app.crews[entry[0]].token}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return error(401, "Unauthorized", "Invalid or missing bearer token")
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), str):
        return error(400, "Bad Request", 'The body must be {"feedback": str, "source": str}')
    outcome = body.get("outcome")
    try:
        answer = app.answer_callback(
            request.path_params["token"],
            body["feedback"],
            outcome if isinstance(outcome, str) else None,
        )
    except CallbackError as exc:
        return error(exc.status, exc.error, exc.message)
    return JSONResponse(answer)


def _describe(spec: CrewSpec) -> dict[str, Any]:
    return {
        "crew": spec.name,
        "offline": spec.offline,
        "offline_mode": spec.offline_mode,
        "faults": asdict(spec.faults),
        "flow_webhook": None
        if spec.flow_webhook is None
        else {
            "url": spec.flow_webhook.url,
            "sla_target_minutes": spec.flow_webhook.sla_target_minutes,
        },
    }
