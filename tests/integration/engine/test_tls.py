"""https through the clients' one shared TLS context: built once, still verifying certificates.
A loopback TLS server with a self-signed certificate made by `openssl` for the test."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crewdash.aop import AsyncCrewClient, CrewClient, RetryPolicy
from crewdash.aop.errors import AOPError
from crewdash.aop.protocol import shared_ssl_context
from crewdash.aop.transports import AsyncSchemeTransport

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
def cert(tmp_path: Path) -> Path:
    pem = tmp_path / "cert.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(tmp_path / "key.pem"), "-out", str(pem)]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            *subject,
            *files,
        ],
        check=True,
        capture_output=True,
    )
    return pem


@pytest.fixture
def fresh_context() -> Iterator[None]:
    """The shared context is made on first use: make it again under this test's environment,
    and drop it afterwards so no other test inherits this test's trust store."""
    shared_ssl_context.cache_clear()
    yield
    shared_ssl_context.cache_clear()


@pytest.fixture
async def tls_url(cert: Path) -> AsyncIterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, cert.parent / "key.pem")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ANSWER)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # a client that refused our certificate hangs up mid-handshake
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/crews/tls"
    finally:
        server.close()
        await server.wait_closed()


async def test_https_works_with_a_trusted_certificate(
    tls_url: str, cert: Path, fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # honoured as httpx honours it
    async with AsyncCrewClient(tls_url, "tok", retry=RetryPolicy.none()) as client:
        assert await client.health() >= 0.0


async def test_an_untrusted_certificate_is_refused(tls_url: str, fresh_context: None) -> None:
    async with AsyncCrewClient(tls_url, "tok", retry=RetryPolicy.none()) as client:
        with pytest.raises(AOPError):
            await client.health()


async def test_clients_share_one_context_built_once(
    tls_url: str, cert: Path, fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    clients = [AsyncCrewClient(tls_url, "tok", retry=RetryPolicy.none()) for _ in range(3)]
    for client in clients:
        assert await client.health() >= 0.0
        await client.aclose()
    assert shared_ssl_context.cache_info().misses == 1


async def test_plain_http_never_loads_the_ca_bundle(
    sim_server: Any, fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain-HTTP crew (the simulator, a deployment behind a local tunnel) makes no TLS
    connection, so it must not pay for the verifying context (~35 ms of blocked loop at start)."""
    loaded: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loaded.append(args)
        real(self, *args, **kwargs)  # type: ignore[arg-type]  # passes the caller's own args

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    url, token = sim_server.crew_url("basic"), sim_server.token("basic")
    async with AsyncCrewClient(url, token, retry=RetryPolicy.none()) as client:
        assert await client.health() >= 0.0

    def blocking_health() -> float:  # in a thread: the simulator serves on this test's loop
        with CrewClient(url, token, retry=RetryPolicy.none()) as blocking:
            return blocking.health()

    assert await asyncio.to_thread(blocking_health) >= 0.0
    assert loaded == []
    assert shared_ssl_context.cache_info().misses == 0


async def test_an_https_request_from_a_plain_http_client_still_verifies(
    tls_url: str, fresh_context: None
) -> None:
    """The TLS pool of a client is built on its first https request (an absolute URL, say):
    with the verifying context, so an untrusted certificate is still refused."""
    plain = AsyncSchemeTransport()
    async with httpx.AsyncClient(transport=plain) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(tls_url)
    assert shared_ssl_context.cache_info().misses == 1
