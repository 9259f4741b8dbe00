"""Every reliance of crewdash on textual-serve's internals, in one place (the pinned range is
`textual-serve>=1.1,<1.2`; tests/unit/tui/test_web_server_compat.py fails loudly when an
upgrade changes what is used here):

- `Server._make_app()` (private) builds its aiohttp application: crewdash adds its access
  middleware (`crewdash.tui.web.auth`) to it before it is frozen.
- `Server.handle_index` fills the page's template from `Server.public_url`; without a
  `--public-url` crewdash sets it, per request, to the address the browser used (the Host
  header), so that the page's websocket goes back the way the page came: through an SSH
  tunnel on another port, or to a server listening on 0.0.0.0.
- `Server.on_startup` prints a banner with the command (paths): crewdash prints its own.
- Each visitor's websocket starts `Server.command` through a shell (`AppService`): one
  dashboard process per visitor, with the environment of this process.

The server is run with aiohttp's AppRunner (not `Server.serve`, which installs its own
logging and cannot listen on a free port and say which): no access log, which would write
the query of every request, and with it a `?token=`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from textual_serve.server import Server

from crewdash.tui.web.auth import Access, access_middleware

#: how long open dashboards get to quit when the server stops
SHUTDOWN_SECONDS = 2.0


class DashboardServer(Server):
    """textual-serve's server, with crewdash's access control and page address."""

    def __init__(
        self, command: str, *, host: str, port: int, access: Access, public_url: str | None
    ) -> None:
        super().__init__(command, host=host, port=port, title="crewdash", public_url=public_url)
        self.access = access
        self.fixed_public_url = public_url

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(access_middleware(self.access))
        return app

    async def on_startup(self, app: web.Application) -> None:
        """No banner: `crewdash serve` says where it listens."""

    async def handle_index(self, request: web.Request) -> Any:
        if self.fixed_public_url is None:
            # read by the page's template at once (no await between): the address used
            self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)


async def serve(
    server: DashboardServer,
    listening: Callable[[Sequence[Any]], None],
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (or `stop` is set); `listening` gets the bound addresses
    (host, port, ...) once the socket listens."""
    app = await server._make_app()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        listening(runner.addresses)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
