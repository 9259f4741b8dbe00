"""A real webhook receiver on a free loopback port for the receiver tests, recording what it
hands the engine (`seen["crew"]`, `seen["flow"]`, `seen["delivery"]`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from crewdash.aop.models import Secret
from crewdash.core.config.model import ReceiverConfig
from crewdash.core.receiver.server import Receiver

Seen = dict[str, list[Any]]


@contextlib.asynccontextmanager
async def running_receiver(
    bearer: str, flow_secret: str, **settings: Any
) -> AsyncIterator[tuple[Receiver, Seen]]:
    """`settings` go to Receiver (connection_timeout, max_connections, ...)."""
    seen: Seen = {"crew": [], "flow": [], "delivery": []}
    rec = Receiver(
        ReceiverConfig(
            enabled=True,
            host="127.0.0.1",
            port=0,
            bearer_token=Secret(bearer),
            flow_secret=Secret(flow_secret),
        ),
        on_crew_hitl=lambda crew, p: seen["crew"].append((crew, p)),
        on_flow_hitl=lambda crew, p: seen["flow"].append((crew, p)),
        on_delivery=lambda crew, p: seen["delivery"].append((crew, p)),
        crews=lambda: {"review", "approvals"},
        **settings,
    )
    await rec.start()
    try:
        yield rec, seen
    finally:
        await rec.stop()
