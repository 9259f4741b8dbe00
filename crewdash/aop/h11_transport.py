"""`AsyncH11Transport`: the async client's requests straight onto h11 over asyncio connections.

The monitor's status polls are the client's hot path. Through httpx's transport and httpcore's
connection pool, a poll built httpcore's request from httpx's, went through the pool's locks,
its assignment of requests to connections and its sweep of every pooled connection, then
wrapped the answer back in two layers of byte streams: about 30% of the monitor's CPU per
status request (py-spy, the monitor benchmark's 2,000-run case). Here a request is written
with h11 (the HTTP/1.1 state machine httpcore itself uses) on a connection of `wire.py`, and
the answer is read whole into an `httpx.Response`: the rest of the client (timeouts from the
request's extensions, errors as httpx's exceptions, the response's decoding) sees no change.

Connections are kept per origin while the server keeps them alive, for at most
`keepalive_expiry` idle seconds (the simulator's uvicorn closes after 5), and one the server
closed or wrote to while idle is never reused. A request never waits for a connection: the
callers bound their own concurrency (the monitor's cap on requests in flight, a batch's
`--concurrency`).
"""

from __future__ import annotations

import logging
import ssl
import time
import weakref
from collections.abc import Callable

import h11
import httpcore
import httpx

from crewdash.aop.redact import describe_url
from crewdash.aop.wire import AsyncioBackend, AsyncioStream

log = logging.getLogger(__name__)

_READ = 64 * 1024
#: httpcore's errors (raised by wire.py's streams) as the httpx ones the client classifies
_AS_HTTPX: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
)
#: what a connection's failure raises below (to be raised again as httpx's, `_as_httpx`)
_WIRE_ERRORS = (httpcore.NetworkError, httpcore.TimeoutException, h11.ProtocolError)


def _as_httpx(exc: Exception) -> httpx.TransportError:
    for theirs, ours in _AS_HTTPX:
        if isinstance(exc, theirs):
            return ours(str(exc))
    if isinstance(exc, h11.RemoteProtocolError):
        return httpx.RemoteProtocolError(str(exc))
    return httpx.LocalProtocolError(str(exc))


class _Connection:
    """One kept-alive HTTP/1.1 connection: its stream and its h11 state."""

    __slots__ = ("h11", "idle_until", "stream")

    def __init__(self, stream: AsyncioStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_until = 0.0

    def reusable(self, now: float) -> bool:
        """Idle, alive and quiet: the server neither closed it nor wrote to it meanwhile."""
        return now < self.idle_until and not self.stream.get_extra_info("is_readable")

    async def close(self) -> None:
        await self.stream.aclose()


class AsyncH11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 requests over kept-alive asyncio connections (see the module docstring).
    `tls()` gives the TLS context for https, asked for on the first https connection."""

    def __init__(
        self,
        tls: Callable[[], ssl.SSLContext],
        *,
        keepalive_expiry: float = 5.0,
        max_idle_per_origin: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tls = tls
        self._backend = AsyncioBackend()
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self.keepalive_expiry = keepalive_expiry
        self.max_idle_per_origin = max_idle_per_origin
        self._clock = clock
        self.connections_made = 0
        # h11's head of a request sent before: the client sends a status poll's request again
        # as it is (`CrewProtocol._request`), and building the head validates every header
        # (~5% of a poll's CPU). Held as long as the request is.
        self._heads: weakref.WeakKeyDictionary[httpx.Request, h11.Request] = (
            weakref.WeakKeyDictionary()
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise httpx.UnsupportedProtocol(f"not an http:// or https:// URL: {url.scheme}://")
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        connection = await self._take(origin) or await self._connect(origin, timeouts)
        try:
            response = await self._exchange(connection, request, timeouts)
        except BaseException as exc:  # cut, timed out or cancelled mid-answer: never reused
            await connection.close()
            if isinstance(exc, _WIRE_ERRORS):
                raise _as_httpx(exc) from exc
            raise
        await self._give_back(origin, connection)
        if log.isEnabledFor(logging.DEBUG):  # (the URL without credentials; never a header)
            log.debug("%s %s: %d", request.method, describe_url(str(url)), response.status_code)
        return response

    async def _take(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = self._clock()
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
            await connection.close()
        return None

    async def _connect(
        self, origin: tuple[bytes, bytes, int], timeouts: dict[str, float | None]
    ) -> _Connection:
        scheme, host, port = origin
        try:
            stream = await self._backend.connect_tcp(
                host.decode("ascii"), port, timeout=timeouts.get("connect")
            )
            if scheme == b"https":
                stream = await stream.start_tls(
                    self._tls(),
                    server_hostname=host.decode("ascii"),
                    timeout=timeouts.get("connect"),
                )
        except _WIRE_ERRORS as exc:
            raise _as_httpx(exc) from exc
        assert isinstance(stream, AsyncioStream)
        self.connections_made += 1
        return _Connection(stream)

    async def _exchange(
        self, connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        state, stream = connection.h11, connection.stream
        head = self._heads.get(request)
        if head is None:
            head = self._heads[request] = h11.Request(
                method=request.method.encode("ascii"),
                target=request.url.raw_path,
                headers=request.headers.raw,
            )
        body = request.content
        out = state.send(head) or b""
        if body:
            out += state.send(h11.Data(data=body)) or b""
        out += state.send(h11.EndOfMessage()) or b""
        await stream.write(out, timeout=timeouts.get("write"))
        read_timeout = timeouts.get("read")
        answer: h11.Response | None = None
        chunks: list[bytes] = []
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                state.receive_data(await stream.read(_READ, timeout=read_timeout))
            elif isinstance(event, h11.Response):
                answer = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            # an h11.InformationalResponse (1xx) is passed over: its final answer follows
        assert answer is not None  # h11 gives the Response before any Data or EndOfMessage
        return httpx.Response(
            answer.status_code,
            headers=answer.headers.raw_items(),
            content=b"".join(chunks),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )

    async def _give_back(self, origin: tuple[bytes, bytes, int], connection: _Connection) -> None:
        state = connection.h11
        idle = self._idle.setdefault(origin, [])
        if (
            state.our_state is h11.DONE
            and state.their_state is h11.DONE
            and len(idle) < self.max_idle_per_origin
        ):
            state.start_next_cycle()
            connection.idle_until = self._clock() + self.keepalive_expiry
            idle.append(connection)
        else:
            await connection.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                await connection.close()
