"""The client a batch sends through, so Ctrl+C stops the batch without losing a kickoff.

After Ctrl+C a kickoff not yet on the wire is refused before sending with an
`AuthenticationError` subclass: `run_batch` then starts no further rows (its abort path) and
lets the kickoffs already sent finish and record their ids; `start_run` records the held-back
row as refused, so the next run of the batch sends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from crewdash.aop.errors import AOPError, AuthenticationError


class BatchInterrupted(AuthenticationError):
    kind = "interrupted"


class InterruptibleClient:
    def __init__(self, client: Any, interrupted: asyncio.Event) -> None:
        self._client = client
        self._interrupted = interrupted
        self.stopped = False
        self.held_back = 0
        self.first_error: AOPError | None = None

    async def kickoff(self, inputs: Mapping[str, Any], **kwargs: Any) -> str:
        if self._interrupted.is_set():
            self.stopped = True
            self.held_back += 1
            raise BatchInterrupted(
                "not sent: the batch was interrupted (Ctrl+C); run it again to send this row"
            )
        try:
            return await self._client.kickoff(inputs, **kwargs)
        except AOPError as exc:
            if self.first_error is None:
                self.first_error = exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
