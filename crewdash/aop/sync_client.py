"""`CrewClient`: the blocking driver of `CrewProtocol`'s plans over an httpx.Client."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from crewdash.aop.models import HumanInputWebhook, InputSpec, ResumeResult, RunStatus, Webhooks
from crewdash.aop.protocol import CrewProtocol, Plan, Sleep, T
from crewdash.aop.transports import SchemeTransport


class CrewClient(CrewProtocol[httpx.BaseTransport]):
    """One deployed crew or flow, synchronously: the same methods as `AsyncCrewClient`.

    Waits use `clock.blocking_sleep(seconds)` when the clock has it (`SystemClock` does; a
    test's fake clock should too), else `time.sleep`."""

    def _open(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        if transport is not None:  # the transport owns TLS (a test's, a mock's)
            return httpx.Client(transport=transport, follow_redirects=False)
        return httpx.Client(transport=SchemeTransport(), follow_redirects=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _drive(self, plan: Plan[T]) -> T:
        sleep = getattr(self.clock, "blocking_sleep", time.sleep)
        try:
            step = next(plan)
            while True:
                if isinstance(step, Sleep):
                    sleep(step.seconds)
                    step = plan.send(None)
                    continue
                try:
                    outcome = self._http.send(step.request)
                except (httpx.TransportError, httpx.InvalidURL) as exc:
                    outcome = self._failed(step, exc)
                step = plan.send(outcome)
        except StopIteration as done:
            result: T = done.value  # a Plan[T] returns its T
            return result
        finally:
            plan.close()

    def health(self) -> float:
        """`GET /`: the latency in seconds of a successful answer."""
        return self._drive(self._health())

    def inputs(self) -> list[InputSpec]:
        return self._drive(self._inputs())

    def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str:
        """Start a run; the kickoff id. Retried only when the POST provably never arrived."""
        return self._drive(self._kickoff(inputs, meta, webhooks, human_input_webhook))

    def status(self, kickoff_id: str) -> RunStatus:
        return self._drive(self._status(kickoff_id))

    def resume(
        self,
        kickoff_id: str,
        task_id: str,
        feedback: str,
        approve: bool,
        *,
        webhooks: Webhooks | None = None,
    ) -> ResumeResult:
        return self._drive(self._resume(kickoff_id, task_id, feedback, approve, webhooks))

    def stop(self, kickoff_id: str) -> None:
        self._drive(self._stop(kickoff_id))

    def answer_callback(self, callback_url: str, feedback: str) -> None:
        self._drive(self._answer_callback(callback_url, feedback))
