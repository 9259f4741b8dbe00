"""Transports that build the verifying TLS context only when a request needs TLS.

httpx builds a client's TLS context when the client is made, loading the CA bundle (~35 ms of
blocked event loop, measured), even when every request goes to a plain-HTTP crew such as the
simulator or a local tunnel. The sync transport keeps one connection pool per scheme and
makes each on the first request of that scheme: `http://` through a pool whose TLS context
trusts no certificate (it never makes a TLS connection, and would refuse one), `https://`
through a pool on `shared_ssl_context()`, which verifies as httpx's default does.

The async client does not go through httpx's transport and httpcore's pool at all:
`AsyncSchemeTransport` is h11 over plain asyncio connections (h11_transport.py, wire.py),
which makes the TLS context on its first https connection.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx

from crewdash.aop.h11_transport import AsyncH11Transport
from crewdash.aop.protocol import shared_ssl_context


@cache
def _trusts_nothing() -> ssl.SSLContext:
    """A context with no CA loaded and verification on: a TLS handshake through it fails."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _context_for(scheme: str) -> ssl.SSLContext:
    return shared_ssl_context() if scheme == "https" else _trusts_nothing()


class AsyncSchemeTransport(AsyncH11Transport):
    """The async client's transport: h11 over asyncio connections (h11_transport.py), whose
    https connections verify through `shared_ssl_context()`, loaded on the first one."""

    def __init__(self) -> None:
        super().__init__(shared_ssl_context)


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
