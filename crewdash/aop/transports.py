"""Transports that build the verifying TLS context only when a request needs TLS.

httpx builds a client's TLS context when the client is made, loading the CA bundle (~35 ms of
blocked event loop, measured), even when every request goes to a plain-HTTP crew such as the
simulator or a local tunnel. These transports keep one connection pool per scheme and make
each on the first request of that scheme: `http://` through a pool whose TLS context trusts no
certificate (it never makes a TLS connection, and would refuse one), `https://` through a pool
on `shared_ssl_context()`, which verifies as httpx's default does.

The async pools run on `wire.AsyncioBackend` (plain asyncio streams) instead of httpcore's
anyio backend: see crewdash/aop/wire.py for what that saves on every request.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpcore
import httpx

from crewdash.aop.protocol import shared_ssl_context
from crewdash.aop.wire import AsyncioBackend


@cache
def _trusts_nothing() -> ssl.SSLContext:
    """A context with no CA loaded and verification on: a TLS handshake through it fails."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _context_for(scheme: str) -> ssl.SSLContext:
    return shared_ssl_context() if scheme == "https" else _trusts_nothing()


def _async_transport(context: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """httpx's transport (its mapping of requests, responses and errors) over a pool with
    httpx's default limits on the asyncio backend. httpx has no argument for the backend, so
    its pool is replaced (tests/unit/aop/test_wire.py checks this still takes)."""
    transport = httpx.AsyncHTTPTransport(verify=context)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return transport


class AsyncSchemeTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncHTTPTransport` per URL scheme, each made on first use."""

    def __init__(self) -> None:
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    def _pool(self, scheme: str) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(scheme)
        if pool is None:
            pool = self._pools[scheme] = _async_transport(_context_for(scheme))
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool(request.url.scheme).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


class SchemeTransport(httpx.BaseTransport):
    """An `httpx.HTTPTransport` per URL scheme, each made on first use."""

    def __init__(self) -> None:
        self._pools: dict[str, httpx.HTTPTransport] = {}

    def _pool(self, scheme: str) -> httpx.HTTPTransport:
        pool = self._pools.get(scheme)
        if pool is None:
            pool = self._pools[scheme] = httpx.HTTPTransport(verify=_context_for(scheme))
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool(request.url.scheme).handle_request(request)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
