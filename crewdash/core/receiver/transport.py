"""The receiver's HTTP server: uvicorn on a socket bound here, without its signal handlers,
with a cap on open connections and a deadline on each one, and without tracebacks in the
log. uvicorn is imported only when the receiver starts (import cost)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

KEEP_ALIVE = 5  # seconds an idle kept-alive connection waits for its next request


class ConnectionLimits(Protocol):
    """What the server reads (limits) and counts (closures) on the receiver."""

    max_connections: int
    connection_timeout: float
    connections_refused: int
    connections_closed_by_timeout: int


class _NoTracebacks(logging.Filter):
    """uvicorn logs a malformed request or a protocol error with its traceback: keep the
    line, drop the traceback (it would land on the hosting command's stderr)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


_NO_TRACEBACKS = _NoTracebacks()


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking socket; a taken port raises OSError (the caller's to
    report: uvicorn would sys.exit)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def make_server(app: Starlette, limits: ConnectionLimits) -> tuple[uvicorn.Server, asyncio.Event]:
    """The server for `app` and the event set once it has started."""
    import uvicorn

    started = asyncio.Event()

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the host application owns SIGINT/SIGTERM

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            started.set()

    logger = logging.getLogger("uvicorn.error")
    if _NO_TRACEBACKS not in logger.filters:
        logger.addFilter(_NO_TRACEBACKS)
    cfg = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        http=_protocol(limits),
        ws="none",
        timeout_keep_alive=min(KEEP_ALIVE, max(1, int(limits.connection_timeout))),
        # uvicorn counts connections too: above the cap (which refuses them first), so
        # it only answers 503 when more requests than that are being handled at once
        limit_concurrency=limits.max_connections + 1,
        h11_max_incomplete_event_size=16 * 1024,  # request line and headers
    )
    return _Server(cfg), started


def _protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, capping open connections and closing any connection older
    than the timeout."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class _Protocol(H11Protocol):
        _expiry: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows asyncio's BaseTransport; so do we
            if len(self.connections) >= limits.max_connections:
                limits.connections_refused += 1
                self._refused = True
                transport.abort()
                return
            super().connection_made(transport)
            self._expiry = self.loop.call_later(limits.connection_timeout, self._expire)

        def _expire(self, deadline: float | None = None) -> None:
            # A request being answered may finish (its body is bounded by the app's own
            # timeout); an idle, slow-header or kept-alive connection goes now. Never past
            # twice the timeout.
            now = self.loop.time()
            deadline = deadline or now + limits.connection_timeout
            busy = self.cycle is not None and not self.cycle.response_complete
            if busy and now < deadline:
                self._expiry = self.loop.call_later(0.1, self._expire, deadline)
                return
            limits.connections_closed_by_timeout += 1
            self.transport.abort()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:  # refused in connection_made: uvicorn never knew it
                return
            if self._expiry is not None:
                self._expiry.cancel()
            super().connection_lost(exc)

    return _Protocol
