"""httpcore's network streams on plain asyncio: the async client's connections (h11_transport.py).

httpcore's default async backend goes through anyio: every write awaits an extra turn of the
event loop, every read arms a cancel scope, and before each request the pool asks every idle
connection whether the server closed it, which anyio answers by building a dict of socket
attributes and polling the socket. Profiled on the monitor's status polls, that was a third of
the client's CPU. Here a connection is an `asyncio.Protocol` with a buffer: a write is
`transport.write` (waiting only while the transport's buffer is full), a read takes what the
event loop already received, and "has the server closed it" is a look at the buffer and the
end-of-stream flag the loop set. Errors are httpcore's, as its own backends raise them, so
httpx maps them the same way (timeouts, refused and cut connections, TLS failures).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

_PAUSE_AT = 256 * 1024  # stop reading from the socket while this much waits unread


def _expire(waiter: asyncio.Future[None], error: type[Exception], what: str) -> None:
    if not waiter.done():
        waiter.set_exception(error(what))


class _Conn(asyncio.Protocol):
    """One TCP (or TLS) connection's state, fed by the event loop."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.paused = False  # writing: the transport's buffer is full
        self.reading_paused = False
        self._reader: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _PAUSE_AT and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    async def wait(self, kind: str, seconds: float | None, error: type[Exception]) -> None:
        """Until the loop wakes the reader (`kind` "read") or the writer ("drain")."""
        waiter = asyncio.get_running_loop().create_future()
        if kind == "read":
            self._reader = waiter
        else:
            self._drain = waiter
        timer = None
        if seconds is not None:
            timer = asyncio.get_running_loop().call_later(
                seconds, _expire, waiter, error, f"timed out after {seconds:g} s"
            )
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if kind == "read":
                self._reader = None
            else:
                self._drain = None


class AsyncioStream(httpcore.AsyncNetworkStream):
    """An `httpcore.AsyncNetworkStream` over an asyncio transport (see the module docstring)."""

    def __init__(self, conn: _Conn) -> None:
        assert conn.transport is not None
        self._conn = conn
        self._transport: asyncio.Transport = conn.transport

    # httpcore's interface takes `timeout` arguments (ASYNC109 below)
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        conn = self._conn
        if not conn.buffer and not conn.eof:
            await conn.wait("read", timeout, httpcore.ReadTimeout)
        if conn.buffer:
            data = bytes(conn.buffer[:max_bytes])
            del conn.buffer[:max_bytes]
            if conn.reading_paused and len(conn.buffer) <= _PAUSE_AT // 2:
                conn.reading_paused = False
                self._transport.resume_reading()
            return data
        if conn.error is not None:
            raise httpcore.ReadError(str(conn.error) or type(conn.error).__name__)
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        conn = self._conn
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if conn.paused:
            await conn.wait("drain", timeout, httpcore.WriteTimeout)
            if self._transport.is_closing():
                raise httpcore.WriteError("the connection was closed while writing")

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(
                self._transport,
                self._conn,
                ssl_context,
                server_hostname=server_hostname,
                ssl_handshake_timeout=timeout,
            )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(exc) or "timed out in the TLS handshake") from exc
        except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; named for clarity
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        self._conn.transport = transport
        return AsyncioStream(self._conn)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of every idle pooled connection, on every request
            return bool(self._conn.buffer) or self._conn.eof
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens `AsyncioStream`s (TCP only: the client never uses a Unix socket)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, conn = await loop.create_connection(_Conn, host, port, local_addr=local)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return AsyncioStream(conn)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - never configured
        raise httpcore.ConnectError("crewdash does not connect through Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
