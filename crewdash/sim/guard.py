"""The gate of every crew request: offline switch, seeded faults (latency, drop, 429, 5xx,
bad bodies), bearer check, then the handler; each answer is counted in the stats."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from crewdash.sim.crew_state import CrewState
from crewdash.sim.faults import Decision, html_error_page
from crewdash.sim.responses import DroppedResponse, bad_body, echoed, error

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp

Handler = Callable[["SimApp", Request, CrewState], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def crew_endpoint(app: SimApp, label: str, handler: Handler) -> Endpoint:
    """The Starlette endpoint of one crew route; `label` names the route in the stats."""

    async def endpoint(request: Request) -> Response:
        name = request.path_params["crew"]
        state = app.crews.get(name)
        if state is None:
            app.stats.count("?", label, 404)
            return error(404, "Not Found", f"No deployment named {name!r}")
        response = await guarded(app, request, state, handler)
        # a dropped connection has no status the client could see
        status = 0 if isinstance(response, DroppedResponse) else response.status_code
        app.stats.count(name, label, status)
        return response

    return endpoint


async def guarded(app: SimApp, request: Request, state: CrewState, handler: Handler) -> Response:
    """`handler`'s answer, or the fault or refusal the crew's spec and the dice call for."""
    spec = state.spec
    if spec.offline:
        app.stats.fault(spec.name, "offline")
        if spec.offline_mode == "drop":
            return DroppedResponse()
        return HTMLResponse(html_error_page(503), status_code=503)
    decision = state.faults.decide(app.now(), app.clock.time())
    if decision.delay:
        await app.clock.sleep(decision.delay)
    early = _fault_before(app, spec.name, decision)
    if early is None:
        early = _unauthorized(request, state)
    if early is not None:
        return early
    if spec.faults.refuse_rate and state.faults.rng.random() < spec.faults.refuse_rate:
        app.stats.fault(spec.name, "refused")
        response: Response = error(
            422,
            "Validation Error",
            "Missing required inputs",
            details={"missing_inputs": ["ghost"]},
        )
    else:
        response = await handler(app, request, state)
    if spec.faults.echo_token and isinstance(response, JSONResponse):
        app.stats.fault(spec.name, "echo_token")
        response = echoed(response, state.token, spec.faults.echo_token_in_id)
    if decision.kind == "bad_body":
        app.stats.fault(spec.name, "bad_body")
        return bad_body(response, decision.truncate)
    if decision.kind == "drop_after":
        app.stats.fault(spec.name, "drop_after")
        return DroppedResponse()
    return response


def _fault_before(app: SimApp, crew: str, decision: Decision) -> Response | None:
    """The answer of a fault that replaces the handler's (drop, 429, 5xx), or None."""
    if decision.kind == "drop":
        app.stats.fault(crew, "drop")
        return DroppedResponse()
    if decision.kind == "rate_limited":
        app.stats.fault(crew, "rate_limited")
        return JSONResponse(
            {"error": "Too Many Requests", "message": "Rate limit exceeded"},
            status_code=429,
            headers={"Retry-After": decision.retry_after},
        )
    if decision.kind == "server_error":
        app.stats.fault(crew, f"{decision.status}{'_html' if decision.html else ''}")
        if decision.html:
            return HTMLResponse(html_error_page(decision.status), status_code=decision.status)
        return error(decision.status, "Internal Server Error", "An unexpected error occurred")
    return None


def _unauthorized(request: Request, state: CrewState) -> Response | None:
    """A 401 unless the request carries the crew's bearer token."""
    auth = request.headers.get("authorization", "")
    expected = f"Bearer {state.token}"
    if hmac.compare_digest(auth.encode(), expected.encode()):
        return None
    if state.spec.faults.echo_token:
        return error(401, "Unauthorized", f"Invalid bearer token: {auth}")
    return error(401, "Unauthorized", "Invalid or missing bearer token")
