"""The async client's connection pools on plain asyncio streams (crewdash/aop/wire.py), against
real sockets on loopback: answers, keep-alive reuse, and every way a connection fails becomes
the client's usual error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpcore
import pytest

from crewdash.aop import AsyncCrewClient, ConnectionFailedError, RequestTimeoutError, RetryPolicy
from crewdash.aop.transports import AsyncSchemeTransport
from crewdash.aop.wire import AsyncioBackend

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


def test_the_pool_runs_on_the_asyncio_backend() -> None:
    pool = AsyncSchemeTransport()._pool("http")._pool
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, AsyncioBackend)


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
    assert connections == 1


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
