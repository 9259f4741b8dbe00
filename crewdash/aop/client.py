"""`AsyncCrewClient`: the asyncio driver of `CrewProtocol`'s plans over an httpx.AsyncClient."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from crewdash.aop.classify import parse_retry_after
from crewdash.aop.errors import AOPError
from crewdash.aop.models import HumanInputWebhook, InputSpec, ResumeResult, RunStatus, Webhooks
from crewdash.aop.protocol import CrewProtocol, Plan, Sleep, T
from crewdash.aop.transports import AsyncSchemeTransport


class AsyncCrewClient(CrewProtocol[httpx.AsyncBaseTransport]):
    """One deployed crew or flow, asynchronously. Raises `AOPError` subclasses only.

    `AsyncCrewClient(base_url, token, *, connect_timeout=5.0, read_timeout=30.0, retry=None,
    breaker=None, clock=None, transport=None, status_route=None, pacer=None)`: with a
    `pacer`, every request but a kickoff (whose protocol paces it) waits for its turn."""

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        # the transport owns TLS (a test's or a mock's when given)
        return transport if transport is not None else AsyncSchemeTransport()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """The request through the transport, the whole answer read. No httpx.AsyncClient
        around it: its auth and redirect layers, cookie jar and timers did nothing for these
        calls (no auth flow, no redirects followed, cookies never sent back), yet cost ~15% of
        the monitor's CPU per status request. Timeouts ride on the request (`_request`)."""
        response: httpx.Response = await self._http.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _drive(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                if isinstance(step, Sleep):
                    await self.clock.sleep(step.seconds)
                    step = plan.send(None)
                    continue
                pacer = self.pacer if step.call.paced else None
                sent_at = await pacer.wait() if pacer is not None else None
                outcome: httpx.Response | AOPError
                try:
                    outcome = await self._send(step.request)
                except (httpx.TransportError, httpx.InvalidURL) as exc:
                    outcome = self._failed(step, exc)
                if (
                    pacer is not None
                    and isinstance(outcome, httpx.Response)
                    and outcome.status_code == 429
                ):
                    retry_after = parse_retry_after(
                        outcome.headers.get("Retry-After"), self.clock.time()
                    )
                    pacer.learn_429(retry_after, sent_at)
                step = plan.send(outcome)
        except StopIteration as done:
            result: T = done.value  # a Plan[T] returns its T
            return result
        finally:
            plan.close()

    async def health(self) -> float:
        """`GET /`: the latency in seconds of a successful answer."""
        return await self._drive(self._health())

    async def inputs(self) -> list[InputSpec]:
        return await self._drive(self._inputs())

    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str:
        """Start a run; the kickoff id. Retried only when the POST provably never arrived."""
        return await self._drive(self._kickoff(inputs, meta, webhooks, human_input_webhook))

    async def status(self, kickoff_id: str) -> RunStatus:
        return await self._drive(self._status(kickoff_id))

    async def resume(
        self,
        kickoff_id: str,
        task_id: str,
        feedback: str,
        approve: bool,
        *,
        webhooks: Webhooks | None = None,
    ) -> ResumeResult:
        return await self._drive(self._resume(kickoff_id, task_id, feedback, approve, webhooks))

    async def stop(self, kickoff_id: str) -> None:
        await self._drive(self._stop(kickoff_id))

    async def answer_callback(self, callback_url: str, feedback: str) -> None:
        await self._drive(self._answer_callback(callback_url, feedback))
