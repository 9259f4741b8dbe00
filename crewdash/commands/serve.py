"""`crewdash serve`: the dashboard in web browsers (textual-serve). Every visitor gets a
dashboard process of their own on the same config and data directory, so all of them show one
live truth (docs/design.md, "One live truth"); read-only unless `--allow-actions`.

Beyond loopback an access token is required: `$CREWDASH_SERVE_TOKEN`, else one made up and
printed once, in the address to open (`crewdash.tui.web.auth` says how the page presents it).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the web modules are imported when the command runs
    from collections.abc import Callable, Sequence
    from contextlib import AbstractAsyncContextManager
    from pathlib import Path

DESCRIPTION = (
    "Serve the dashboard to web browsers: each visitor gets their own dashboard on the same "
    "config and data directory. Read-only unless --allow-actions. Listening beyond loopback "
    "requires an access token: $CREWDASH_SERVE_TOKEN, else one is made up and printed once."
)


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """The options of `crewdash serve` (also `crewdash demo --serve`'s)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    parser.add_argument(
        "--allow-actions",
        action="store_true",
        help="let visitors start, stop and answer runs (else the dashboards are read-only)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, behind a proxy (else the one each browser used)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the dashboard to web browsers", description=DESCRIPTION
    )
    add_serve_options(parser)
    parser.set_defaults(handler="crewdash.commands.serve:run")


class ServeError(Exception):
    """Bad options: said in one line, exit code 2."""


def run(args: argparse.Namespace) -> int:
    import sys

    from crewdash.core.config.errors import ConfigError
    from crewdash.core.config.load import load_config
    from crewdash.core.config.paths import resolve_config_path, resolve_data_dir

    config_path = resolve_config_path(getattr(args, "config", None))
    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    try:
        config = load_config(config_path)
        if not config.crews:
            raise ServeError(f"no crews in {config_path}: add one with `crewdash` first")
        return serve_dashboard(args, config_path, data_dir)
    except (ConfigError, ServeError) as exc:
        print(f"crewdash: {exc}", file=sys.stderr)
        return 2


def dashboard_command(config: Path, data_dir: Path, *, allow_actions: bool) -> str:
    """The shell command each visitor's dashboard runs (`exec`: the shell becomes it)."""
    import shlex
    import sys

    argv = [sys.executable, "-m", "crewdash", "--config", str(config), "--data-dir"]
    argv += [str(data_dir), *(("--via", "browser") if allow_actions else ("--read-only",))]
    return "exec " + shlex.join(argv)


def access_token(host: str) -> tuple[str | None, bool]:
    """(the token pages must present or None, whether it was made up here). The variable is
    taken out of the environment: the dashboards started for visitors do not need it."""
    import os
    import secrets

    from crewdash.tui.web.auth import TOKEN_ENV, check_token, is_loopback

    given = os.environ.pop(TOKEN_ENV, None)
    if given:
        try:
            return check_token(given), False
        except ValueError as exc:
            raise ServeError(str(exc)) from None
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


def check_options(host: str, port: int, public_url: str | None) -> None:
    if not host:
        raise ServeError("--host must not be empty")
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port} is not a port (0-65535)")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ServeError("--public-url must start with http:// or https://")


def serve_dashboard(
    args: argparse.Namespace,
    config_path: Path,
    data_dir: Path,
    around: Callable[[], AbstractAsyncContextManager[object]] | None = None,
) -> int:
    """Serve dashboards on `config_path` and `data_dir` as `args` say, until Ctrl+C. `around`
    is entered on the server's loop before it listens, left after it stopped (the demo's
    simulator, which writes the config first)."""
    import asyncio
    import contextlib
    import logging
    import sys
    from urllib.parse import urlsplit

    host, port, public_url = args.host, args.port, args.public_url
    check_options(host, port, public_url)
    allow = bool(args.allow_actions)
    token, made_up = access_token(host)
    from crewdash.tui.web.auth import Access
    from crewdash.tui.web.server import DashboardServer, serve

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    secure = public_url is not None and public_url.startswith("https://")
    access = Access(token, urlsplit(public_url).hostname if public_url else None, secure)
    command = dashboard_command(config_path.resolve(), data_dir.resolve(), allow_actions=allow)
    server = DashboardServer(command, host=host, port=port, access=access, public_url=public_url)

    def listening(addresses: Sequence[Any]) -> None:
        print(listening_words(addresses, public_url, token if made_up else None, allow))
        sys.stdout.flush()

    async def serving() -> None:
        async with around() if around is not None else contextlib.nullcontext():
            await serve(server, listening)

    try:
        asyncio.run(serving())
    except OSError as exc:
        print(f"crewdash: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 4
    return 0


def listening_words(
    addresses: Sequence[Any], public_url: str | None, token: str | None, allow: bool
) -> str:
    """What `crewdash serve` says once it listens: where, how, and a made-up token (once)."""
    import socket

    host, port = str(addresses[0][0]), int(addresses[0][1])
    shown = "[" + host + "]" if ":" in host else host
    lines = [
        f"crewdash serve: listening on {shown}:{port} "
        f"({'actions allowed' if allow else 'read-only'})"
    ]
    if public_url is None:
        name = socket.gethostname() if host in ("0.0.0.0", "::") else shown
        public_url = f"http://{name}:{port}"
    address = public_url.rstrip("/") + "/"
    if token is not None:
        lines.append(f"open {address}?token={token}")
        lines.append("(the access token is shown only now; set $CREWDASH_SERVE_TOKEN to choose it)")
    else:
        lines.append(f"open {address}")
    lines.append("Ctrl+C stops serving (runs keep going on the server).")
    return "\n".join(lines)
