"""`crewdash demo`: the built-in simulator on a free loopback port, a throwaway config and data
dir (the operator's own are never touched), and the dashboard on it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.serve import add_serve_options

if TYPE_CHECKING:  # types only: the demo's modules are imported when it runs
    from pathlib import Path

    from crewdash.core.config.model import Config
    from crewdash.sim import Scenario
    from crewdash.sim.address import SimAddress


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try crewdash on simulated deployments (nothing leaves this machine)",
        description="Serve the demo scenario of the built-in simulator on 127.0.0.1 and open "
        "the dashboard on it, with a temporary config and data dir that are deleted on exit.",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated time per real second (default 1)"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the demo's dashboard to web browsers instead (see `crewdash serve`)",
    )
    add_serve_options(parser)
    parser.set_defaults(handler="crewdash.commands.demo:run")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "serve", False):
        return serve_demo(args)
    return run_demo(speed=getattr(args, "speed", 1.0))


def serve_demo(args: argparse.Namespace) -> int:
    """`crewdash demo --serve`: the simulator on loopback and `crewdash serve` on its crews,
    with a temporary config and data dir deleted when serving stops."""
    import contextlib
    import sys
    import tempfile
    from collections.abc import AsyncIterator
    from pathlib import Path

    from crewdash.commands.serve import ServeError, serve_dashboard
    from crewdash.sim import SimApp, demo_scenario, serve_in_background

    scenario = demo_scenario()
    sim = SimApp(scenario, speed=args.speed)
    with tempfile.TemporaryDirectory(prefix="crewdash-demo-") as tmp:
        root = Path(tmp)

        @contextlib.asynccontextmanager
        async def simulator() -> AsyncIterator[object]:
            async with serve_in_background(sim, "127.0.0.1", 0) as server:
                demo_config(server, scenario, root / "config.toml")
                yield server

        try:
            return serve_dashboard(args, root / "config.toml", root / "data", around=simulator)
        except ServeError as exc:
            print(f"crewdash: {exc}", file=sys.stderr)
            return 2


def run_demo(*, speed: float = 1.0) -> int:
    import asyncio

    from crewdash.commands.dashboard import DashboardCrashed, crashed

    try:
        asyncio.run(_demo(speed))
    except DashboardCrashed as exc:
        return crashed(exc)
    return 0


def demo_config(
    server: SimAddress, scenario: Scenario, path: Path, *, receiver_port: int | None = None
) -> Config:
    """The demo's config: one crew per simulated deployment, written to `path` (0600); with
    `receiver_port`, the webhook receiver on that loopback port, so the simulator's step and
    task webhooks show in a run's Events tab.

    `server` answers `crew_url(name)` and `token(name)`: a running `SimServer`, or the
    `SimAddress` it will be served at."""
    from crewdash.aop.models import Secret
    from crewdash.core.config.load import load_config, write_config
    from crewdash.core.config.model import (
        Config,
        CrewConfig,
        CrewKind,
        ReceiverConfig,
        TokenSource,
    )

    crews = {
        spec.name: CrewConfig(
            name=spec.name,
            url=server.crew_url(spec.name),
            token=TokenSource(inline=Secret(server.token(spec.name))),
            kind=CrewKind(spec.kind),
            label=spec.label,
            poll_min=0.5,
            poll_max=3.0,
        )
        for spec in scenario.crews
    }
    receiver = ReceiverConfig()
    if receiver_port is not None:
        receiver = ReceiverConfig(enabled=True, host="127.0.0.1", port=receiver_port)
    write_config(path, Config(path=path, crews=crews, receiver=receiver))
    return load_config(path)


def reserve_port(host: str) -> int:
    """A free port on `host` for the simulator, which binds it after the first frame.

    The probe is closed at once; if anything takes the port in the second or so before the
    simulator binds it, serving fails with OSError."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _demo(speed: float) -> None:
    """The dashboard is painted first; the simulator is served after its first frame, just
    before the engine that talks to it is built (uvicorn's import and start-up took ~0.1 s
    before the first frame)."""
    import contextlib
    import tempfile
    from pathlib import Path

    from crewdash.commands.dashboard import run_app
    from crewdash.sim import SimApp, demo_scenario
    from crewdash.sim.address import SimAddress

    host = "127.0.0.1"
    scenario = demo_scenario()
    sim = SimApp(scenario, speed=speed)
    planned = SimAddress(sim, host, reserve_port(host))
    with tempfile.TemporaryDirectory(prefix="crewdash-demo-") as tmp:
        root = Path(tmp)
        config = demo_config(
            planned, scenario, root / "config.toml", receiver_port=reserve_port(host)
        )
        try:

            async def serve(serving: contextlib.AsyncExitStack) -> None:
                # on the engine's thread: the simulator is served beside the engine, not on
                # the loop that paints (closed there after the engine stopped)
                from crewdash.sim import serve_in_background

                server = await serving.enter_async_context(
                    serve_in_background(sim, host, planned.port)
                )
                assert server.url == planned.url

            # crash reports outlive the demo's temporary folder
            crashes = Path(tempfile.gettempdir()) / "crewdash-crashes"
            await run_app(
                config,
                root / "data",
                None,
                demo=True,
                before_engine=serve,
                crash_dir=crashes,
            )
        finally:
            await sim.aclose()  # also when the operator left before it was served
