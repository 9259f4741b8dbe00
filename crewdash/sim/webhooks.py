"""Outbound webhook deliveries: fire-and-forget asyncio tasks with a timeout, never retried
(as AOP's senders behave). Flow deliveries are signed with HMAC-SHA256."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `"<timestamp>.<raw body>"`, as X-CrewAI-Signature carries it."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Deliverer:
    """Sends JSON bodies in background tasks; reports each outcome to `on_result`."""

    def __init__(
        self,
        on_result: Callable[[dict[str, Any]], None],
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._on_result = on_result
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send(
        self,
        kind: str,
        url: str,
        payload: dict[str, Any],
        *,
        bearer: str | None = None,
        secret: str | None = None,
        timestamp: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "crewdash-sim"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if secret is not None:
            ts = str(int(timestamp if timestamp is not None else 0))
            headers["X-CrewAI-Timestamp"] = ts
            headers["X-CrewAI-Signature"] = sign(secret, ts, body)
        record: dict[str, Any] = {"kind": kind, "url": url, "payload": payload, **(extra or {})}
        task = asyncio.get_running_loop().create_task(self._post(url, body, headers, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], record: dict[str, Any]
    ) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            record.update(ok=False, status=None, error=type(exc).__name__)
        else:
            record.update(ok=response.is_success, status=response.status_code, error=None)
        self._on_result(record)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every delivery started so far has finished (tests use this)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
