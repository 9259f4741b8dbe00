"""`crewdash demo`: the built-in simulator on a free loopback port, a throwaway config and data
dir (the operator's own are never touched), and the dashboard on it."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try crewdash on simulated deployments (nothing leaves this machine)",
        description="Serve the demo scenario of the built-in simulator on 127.0.0.1 and open "
        "the dashboard on it, with a temporary config and data dir that are deleted on exit.",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated time per real second (default 1)"
    )
    parser.set_defaults(handler="crewdash.commands.demo:run")


def run(args: argparse.Namespace) -> int:
    return run_demo(speed=getattr(args, "speed", 1.0))


def run_demo(*, speed: float = 1.0) -> int:
    import asyncio

    from crewdash.commands.dashboard import freeze_imports

    freeze_imports()
    asyncio.run(_demo(speed))
    return 0


def demo_config(server: object, scenario: object, path: object) -> object:
    """The demo's config: one crew per simulated deployment, written to `path` (0600)."""
    from pathlib import Path

    from crewdash.aop.models import Secret
    from crewdash.core.config import load_config, write_config
    from crewdash.core.config_model import Config, CrewConfig, CrewKind, TokenSource

    assert isinstance(path, Path)
    crews = {
        spec.name: CrewConfig(
            name=spec.name,
            url=server.crew_url(spec.name),  # type: ignore[attr-defined]
            token=TokenSource(inline=Secret(server.token(spec.name))),  # type: ignore[attr-defined]
            kind=CrewKind(spec.kind),
            label=spec.label,
            poll_min=0.5,
            poll_max=3.0,
        )
        for spec in scenario.crews  # type: ignore[attr-defined]
    }
    write_config(path, Config(path=path, crews=crews))
    return load_config(path)


async def _demo(speed: float) -> None:
    import tempfile
    from pathlib import Path

    from crewdash.commands.dashboard import run_app
    from crewdash.sim import SimApp, demo_scenario, serve_in_background

    scenario = demo_scenario()
    with tempfile.TemporaryDirectory(prefix="crewdash-demo-") as tmp:
        root = Path(tmp)
        async with serve_in_background(SimApp(scenario, speed=speed), "127.0.0.1", 0) as server:
            config = demo_config(server, scenario, root / "config.toml")
            await run_app(config, root / "data", None, demo=True)
