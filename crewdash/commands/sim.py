"""`crewdash sim`: serve the built-in AOP simulator (or a scenario file) on loopback."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewdash.sim import Scenario


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="serve a simulated CrewAI AOP (no account needed)",
        description="Serve simulated AOP deployments (crews and flows) for trying crewdash, "
        "tests and benchmarks. Prints each crew's base URL and token. Ctrl+C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument(
        "--scenario", default="demo", metavar="NAME|FILE", help="built-in name or .toml/.json file"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="time compression factor")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    parser.add_argument(
        "--write-config", metavar="PATH", help="write a crewdash config for these crews (0600)"
    )
    parser.set_defaults(handler="crewdash.commands.sim:handle")


def config_text(crews: Sequence[tuple[str, str, str, str]]) -> str:
    """A crewdash config TOML for (name, url, token, kind) rows."""
    import tomli_w

    return tomli_w.dumps(
        {
            "crews": {
                name: {"url": url, "token": token, "kind": kind} for name, url, token, kind in crews
            }
        }
    )


def write_config(path: str, text: str) -> None:
    """Write at mode 0600 from the first byte: the file holds tokens."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode on O_CREAT: force it
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def handle(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from crewdash.sim import ScenarioError, load_scenario

    if args.speed <= 0:
        print("crewdash sim: --speed must be positive", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"crewdash sim: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, scenario))
    except KeyboardInterrupt:
        print("simulator stopped", flush=True)
        return 0


async def _serve(args: argparse.Namespace, scenario: Scenario) -> int:
    import asyncio
    import sys

    from crewdash.sim import SimApp, serve_in_background

    app = SimApp(scenario, seed=args.seed, speed=args.speed)
    try:
        server_cm = serve_in_background(app, args.host, args.port)
        async with server_cm as server:
            rows = [
                (c.name, server.crew_url(c.name), server.token(c.name), c.kind)
                for c in app.scenario.crews
            ]
            print(f"crewdash simulator: scenario {app.scenario.name!r} at {server.url}", flush=True)
            print(f"speed x{args.speed:g}, seed {args.seed}; stats at {server.url}/_sim/stats")
            width = max(len(name) for name, *_ in rows)
            for name, url, token, kind in rows:
                print(f"  {name:<{width}}  {kind:<4}  {url}  token: {token}")
            if args.write_config:
                write_config(args.write_config, config_text(rows))
                print(f"config written to {args.write_config}")
            print("Ctrl+C stops the simulator.", flush=True)
            await asyncio.Event().wait()
    except OSError as exc:
        print(f"crewdash sim: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
