"""The async client's transport, h11 on plain asyncio streams (crewdash/aop/h11_transport.py,
wire.py), against real sockets on loopback: answers, keep-alive reuse, and every way a
connection fails becomes the client's usual error."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from crewdash.aop import (
    AsyncCrewClient,
    ConnectionFailedError,
    RequestTimeoutError,
    RetryPolicy,
    h11_transport,
)
from crewdash.aop.h11_transport import AsyncH11Transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
STATUS = b'{"state": "RUNNING", "current_task": "t1"}'


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def _answer(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


def _client(url: str, read_timeout: float = 30.0) -> AsyncCrewClient:
    return AsyncCrewClient(url, "tok", retry=RetryPolicy.none(), read_timeout=read_timeout)


async def test_answers_reuse_one_connection(serve: Callable[[Handler], Awaitable[str]]) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(_answer(STATUS))
            await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        for _ in range(5):
            status = await client.status("k1")
            assert status.current_task == "t1"
        assert isinstance(client._http, AsyncH11Transport)
        assert client._http.connections_made == 1
    assert connections == 1


async def test_a_poll_sent_again_goes_out_the_same_with_its_head_built_once(
    serve: Callable[[Handler], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                heads.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(_answer(STATUS))
            await writer.drain()
        writer.close()

    built: list[bytes] = []
    real = h11_transport.h11.Request

    def counted(**fields: Any) -> Any:
        built.append(fields["target"])
        return real(**fields)

    monkeypatch.setattr(h11_transport.h11, "Request", counted)
    async with _client(await serve(handler)) as client:
        for kickoff_id in ("k1", "k1", "k2", "k1"):
            assert (await client.status(kickoff_id)).current_task == "t1"
    assert [b"k1" in t for t in built] == [True, False]  # one head per request, not per send
    k1 = [head for head in heads if b"/k1 " in head]
    assert len(k1) == 3 and len(set(k1)) == 1  # sent again byte for byte
    assert b"authorization: bearer tok" in k1[0].lower()


async def test_a_big_answer_arrives_whole(serve: Callable[[Handler], Awaitable[str]]) -> None:
    big = b'{"state": "SUCCESS", "result": "' + b"x" * 1_000_000 + b'"}'

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(big, close=True))
        await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        status = await client.status("k1")
    assert status.result is not None and len(status.result.output) == 1_000_000


async def test_a_server_closing_an_idle_connection_is_not_reused(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(STATUS))  # keep-alive offered, then closed anyway
        await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        await client.status("k1")
        await asyncio.sleep(0.05)  # the close arrives; the pool must not send on it
        assert (await client.status("k2")).current_task == "t1"


async def test_silence_is_a_read_timeout(serve: Callable[[Handler], Awaitable[str]]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async with _client(await serve(handler), read_timeout=0.2) as client:
        with pytest.raises(RequestTimeoutError):
            await client.status("k1")


async def test_a_cut_connection_and_a_refused_one_fail_plainly(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        writer.transport.abort()

    async with _client(await serve(handler)) as client:
        with pytest.raises(ConnectionFailedError):
            await client.status("k1")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with _client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ConnectionFailedError):
            await client.status("k1")


async def test_a_chunked_answer_and_a_posted_body_arrive_whole(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _read_request(reader)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        received.append(await reader.readexactly(length))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"kic\r\n11\r\nkoff_id": "k-42"}\r\n0\r\n\r\n'
        )
        await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        assert await client.kickoff({"topic": "é" * 3}) == "k-42"
    assert b'"topic"' in received[0] and "é".encode() in received[0]


async def test_a_connection_the_server_will_close_or_kept_too_long_is_not_reused(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        n = 0
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            n += 1
            writer.write(_answer(STATUS, close=n == 2))  # the second answer says "close"
            await writer.drain()
        writer.close()

    now = [100.0]
    transport = AsyncH11Transport(_no_tls, keepalive_expiry=5.0, clock=lambda: now[0])
    client = AsyncCrewClient(
        await serve(handler), "tok", retry=RetryPolicy.none(), transport=transport
    )
    async with client:
        await client.status("k1")
        await client.status("k2")  # "Connection: close": the next needs a new connection
        assert transport.connections_made == 1
        await client.status("k3")
        assert transport.connections_made == 2
        now[0] += 5.1  # idle past keepalive_expiry
        await client.status("k4")
        assert transport.connections_made == 3
    assert connections == 3


async def test_a_cancelled_request_leaves_no_half_read_connection_behind(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    partial = asyncio.Event()  # the first answer's head and one byte are sent

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            if not partial.is_set():
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")  # then stalls
                await writer.drain()
                partial.set()
            else:
                writer.write(_answer(STATUS))
                await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        poll = asyncio.create_task(client.status("k1"))
        await partial.wait()  # the rest of the answer never comes
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        assert (await client.status("k2")).current_task == "t1"  # on a new connection
        assert isinstance(client._http, AsyncH11Transport)
        assert client._http.connections_made == 2


async def test_garbage_for_an_answer_and_a_foreign_scheme_fail_plainly(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        writer.close()

    async with _client(await serve(handler)) as client:
        with pytest.raises(ConnectionFailedError) as caught:
            await client.status("k1")
    assert "tok" not in str(caught.value)
    transport = AsyncH11Transport(_no_tls)
    with pytest.raises(httpx.UnsupportedProtocol):
        await transport.handle_async_request(httpx.Request("GET", "ftp://127.0.0.1/x"))


def _no_tls() -> ssl.SSLContext:
    raise AssertionError("a plain-HTTP crew must not make a TLS context")
