"""Shared fixtures: a running AOP simulator for integration tests.

Fixtures (all function-scoped, all on 127.0.0.1 only):

- ``sim_server`` — a running :class:`crewdash.sim.SimServer` serving the ``testing`` scenario
  (crews ``basic``, ``review`` (human input), ``flow`` (flow with emit approve/reject/escalate),
  ``legacy`` (typed inputs, ``/{id}/status``, ``error_message``, no ``/stop``, runs expire
  30 simulated seconds after they end),
  ``failing``) at speed ``SIM_SPEED`` (10): each task takes 0.1 s of real time and every run
  ends in well under a second. Use ``sim_server.url``, ``sim_server.crew_url(name)``,
  ``sim_server.token(name)``, ``sim_server.app`` (the :class:`crewdash.sim.SimApp`: e.g.
  ``app.configure(name, offline=True)``) and ``sim_server.stats()``.
- ``sim_app_factory(scenario="testing", *, speed=SIM_SPEED, seed=0, clock=None, **kw)`` —
  builds a :class:`SimApp` (``scenario`` is a name, a file path or a ``Scenario``); every app
  made is closed at teardown. Serve one with ``sim_serve``.
- ``sim_serve(app, port=0, close_app=False)`` — async context manager serving ``app`` on
  loopback (``crewdash.sim.serve_in_background``); stop and serve again on the same port to
  simulate a whole deployment going away and coming back.
- ``sim_stats(server_or_url)`` — ``await sim_stats(sim_server)`` reads ``GET /_sim/stats``
  over HTTP (plain httpx) and returns the dict.

For in-process speed, call a ``SimApp`` through ``httpx.ASGITransport(app=app)``; nothing in
the simulator depends on ASGI lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

SIM_SPEED = 10.0


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's thread method, plus the pending asyncio tasks in the dump.

    A hung async test sits in the event loop's ``select``: the thread stacks alone do not
    say which coroutine waits for what. The task stacks do.
    """
    if settings.method != "thread":
        return None
    import threading

    import pytest_timeout

    def expire() -> None:
        _dump_asyncio_tasks()
        pytest_timeout.timeout_timer(item, settings)  # dumps threads, then os._exit(1)

    timer = threading.Timer(settings.timeout, expire)
    timer.name = f"pytest_timeout {item.nodeid}"
    timer.daemon = True
    timer.start()
    item.cancel_timeout = timer.cancel  # type: ignore[attr-defined]
    return True


def _dump_asyncio_tasks() -> None:
    """Print the stack of every task of every event loop running in some thread."""
    import asyncio
    import sys

    seen: set[int] = set()
    for frame in sys._current_frames().values():
        while frame is not None:
            loop = frame.f_locals.get("self")
            if isinstance(loop, asyncio.AbstractEventLoop) and id(loop) not in seen:
                seen.add(id(loop))
                try:
                    tasks = list(asyncio.all_tasks(loop))
                except RuntimeError:  # the set changed under us: take what we can
                    tasks = []
                print(f"\n+++ {len(tasks)} pending asyncio tasks of {loop!r}", file=sys.stderr)
                for task in tasks:
                    print(f"--- {task!r}", file=sys.stderr)
                    task.print_stack(limit=12, file=sys.stderr)
            frame = frame.f_back
    sys.stderr.flush()


@pytest.fixture
async def sim_app_factory() -> AsyncIterator[Callable[..., Any]]:
    from crewdash.sim import Scenario, SimApp, load_scenario

    made: list[Any] = []

    def make(
        scenario: str | Path | Scenario = "testing",
        *,
        speed: float = SIM_SPEED,
        seed: int = 0,
        clock: Any = None,
        **kwargs: Any,
    ) -> SimApp:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        app = SimApp(scenario, seed=seed, speed=speed, clock=clock, **kwargs)
        made.append(app)
        return app

    yield make
    for app in made:
        await app.aclose()


@pytest.fixture
def sim_serve() -> Callable[..., AbstractAsyncContextManager[Any]]:
    from crewdash.sim import serve_in_background

    def serve(app: Any, port: int = 0, *, close_app: bool = False) -> Any:
        return serve_in_background(app, "127.0.0.1", port, close_app=close_app)

    return serve


@pytest.fixture
async def sim_server(sim_app_factory: Callable[..., Any], sim_serve: Any) -> AsyncIterator[Any]:
    app = sim_app_factory("testing")
    async with sim_serve(app) as server:
        yield server


@pytest.fixture
def sim_stats() -> Callable[[Any], Any]:
    async def read(server_or_url: Any) -> dict[str, Any]:
        base = server_or_url if isinstance(server_or_url, str) else server_or_url.url
        async with httpx.AsyncClient() as http:
            response = await http.get(base.rstrip("/") + "/_sim/stats")
        response.raise_for_status()
        return response.json()

    return read
