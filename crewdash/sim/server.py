"""Serve a SimApp with uvicorn inside the running event loop, with the guards of
docs/field-notes.md#uvicorn-in-a-running-event-loop:
no signal capture, a socket we bind ourselves (IPPROTO_TCP, so TCP_NODELAY applies),
shutdown through `should_exit`, no logging config, no lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from crewdash.sim.address import SimAddress
from crewdash.sim.app import SimApp
from crewdash.sim.faults import DropConnection


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would re-raise SIGINT/SIGTERM after serving; the host process owns signals.
        yield


class _DropFilter(logging.Filter):
    """A dropped connection is a fault we inject, not an error to log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


_uvicorn_error = logging.getLogger("uvicorn.error")
if not any(isinstance(f, _DropFilter) for f in _uvicorn_error.filters):
    _uvicorn_error.addFilter(_DropFilter())


@dataclass
class SimServer(SimAddress):
    """A running simulator: its URL, each crew's base URL and token, the app itself."""

    def stats(self) -> dict[str, Any]:
        """The same dict `GET /_sim/stats` answers, read in-process."""
        return self.app.stats_snapshot()


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening now means connections queue up even before uvicorn starts accepting.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serve_in_background(
    app: SimApp, host: str = "127.0.0.1", port: int = 0, *, close_app: bool = True
) -> AsyncIterator[SimServer]:
    """Serve `app` on `host:port` (0: a free port) until the block exits.

    Any ASGI app works (tests serve webhook receivers this way); only a SimApp learns its
    public URL and is closed on exit.

    Raises OSError at once if the port is taken. With `close_app=False` the app (its runs and
    stats) outlives the server, so a test can stop serving and serve again on the same port.
    """
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    server = _QuietServer(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # startup failed: raise its error here
                raise RuntimeError("uvicorn stopped during start-up")
            await asyncio.sleep(0.005)
        if isinstance(app, SimApp):
            app.public_url = f"http://{host}:{bound_port}"
        yield SimServer(app=app, host=host, port=bound_port)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
        if close_app and isinstance(app, SimApp):
            await app.aclose()
