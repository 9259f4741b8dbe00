"""crewdash.sim: an embedded CrewAI AOP simulator (the other side of the wire).

Imports nothing from crewdash.aop/core/tui/cli. The HTTP server part (uvicorn) is imported
lazily by `serve_in_background`, so importing the package stays cheap.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from crewdash.sim.clock import ManualClock, SimClock, SystemClock
from crewdash.sim.loading import ScenarioError, load_scenario, scenario_from_dict
from crewdash.sim.scenario import CrewSpec, FaultSpec, FlowWebhook, InputField, Scenario, TaskSpec
from crewdash.sim.scenarios import demo_scenario, quick_scenario

if TYPE_CHECKING:
    from crewdash.sim.app import SimApp
    from crewdash.sim.server import SimServer

__all__ = [
    "CrewSpec",
    "FaultSpec",
    "FlowWebhook",
    "InputField",
    "ManualClock",
    "Scenario",
    "ScenarioError",
    "SimApp",
    "SimClock",
    "SimServer",
    "SystemClock",
    "TaskSpec",
    "demo_scenario",
    "load_scenario",
    "quick_scenario",
    "scenario_from_dict",
    "serve_in_background",
]


def __getattr__(name: str) -> Any:
    # Starlette and uvicorn load only when the app or the server is actually used.
    if name == "SimApp":
        from crewdash.sim.app import SimApp

        return SimApp
    if name == "SimServer":
        from crewdash.sim.server import SimServer

        return SimServer
    raise AttributeError(name)


def serve_in_background(
    app: SimApp, host: str = "127.0.0.1", port: int = 0, *, close_app: bool = True
) -> AbstractAsyncContextManager[SimServer]:
    """`async with serve_in_background(app) as server:` — see `crewdash.sim.server`."""
    from crewdash.sim.server import serve_in_background as serve

    return serve(app, host, port, close_app=close_app)
