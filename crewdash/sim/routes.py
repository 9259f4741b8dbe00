"""HTTP routes of the simulator: each crew's API under `/crews/<name>`, plus `/_sim/*`.

Every crew request goes through `crewdash.sim.guard` (offline switch, seeded faults, bearer
check, counting) before its handler: `kickoff` for inputs and kickoffs, `executions` for
status, resume and stop. `control` serves `/_sim/*`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crewdash.sim import control, executions, kickoff
from crewdash.sim.crew_state import CrewState
from crewdash.sim.guard import Endpoint, Handler, crew_endpoint

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp


async def health(app: SimApp, request: Request, state: CrewState) -> Response:
    return PlainTextResponse("Healthy")


def _sim_endpoint(
    app: SimApp, handler: Callable[[SimApp, Request], Awaitable[Response]]
) -> Endpoint:
    # A plain function, so Starlette calls it with the request (not as an ASGI app).
    async def endpoint(request: Request) -> Response:
        return await handler(app, request)

    return endpoint


def build_routes(app: SimApp) -> Starlette:
    def crew(label: str, handler: Handler) -> Endpoint:
        return crew_endpoint(app, label, handler)

    def sim(handler: Callable[[SimApp, Request], Awaitable[Response]]) -> Endpoint:
        return _sim_endpoint(app, handler)

    base = "/crews/{crew}"
    routes = [
        Route(base, crew("GET /", health), methods=["GET"]),
        Route(base + "/", crew("GET /", health), methods=["GET"]),
        Route(base + "/inputs", crew("GET /inputs", kickoff.inputs), methods=["GET"]),
        Route(base + "/kickoff", crew("POST /kickoff", kickoff.kickoff), methods=["POST"]),
        Route(base + "/resume", crew("POST /resume", executions.resume), methods=["POST"]),
        Route(
            base + "/status/{kickoff_id}",
            crew("GET /status/{id}", executions.status("current")),
            methods=["GET"],
        ),
        Route(
            base + "/stop/{kickoff_id}", crew("POST /stop/{id}", executions.stop), methods=["POST"]
        ),
        Route(
            base + "/{kickoff_id}/status",
            crew("GET /{id}/status", executions.status("legacy")),
            methods=["GET"],
        ),
        Route("/_sim/stats", sim(control.sim_stats), methods=["GET"]),
        Route("/_sim/control", sim(control.sim_control), methods=["POST"]),
        Route("/_sim/callbacks/{token}", sim(control.sim_callback), methods=["POST"]),
    ]
    return Starlette(routes=routes)
