"""What the inbox uses of the store and of a crew's client: consumer-side protocols, so the
inbox is typed without importing the store (or the HTTP client) at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # types only: the records load on first use (import cost)
    from crewdash.aop.models import ResumeResult, RunStatus, Webhooks
    from crewdash.core.models import (
        AnswerOutcome,
        Decision,
        DecisionRecord,
        HumanRequest,
        RunRecord,
    )


class InboxStore(Protocol):
    """The store's runs and human-input requests, as the inbox reads and writes them."""

    def get(self, local_id: str) -> RunRecord | None: ...

    def find_by_kickoff_id(self, crew: str, kickoff_id: str) -> RunRecord | None: ...

    def get_request(self, request_id: str) -> HumanRequest | None: ...

    def pending_requests(self) -> list[HumanRequest]: ...

    def pending_requests_of(self, crew: str, kickoff_id: str) -> list[HumanRequest]: ...

    def place_request(
        self,
        kickoff_id: str | None,
        flow_request_id: str | None,
        decide: Callable[[list[HumanRequest]], HumanRequest | None],
    ) -> tuple[HumanRequest | None, bool, bool]: ...

    def close_request(
        self,
        request_id: str,
        outcome: AnswerOutcome,
        note: str,
        *,
        user: str,
        channel: str,
        at: float | None = None,
    ) -> HumanRequest | None: ...

    def claim_answer(
        self,
        decision: Decision,
        channel: str,
        not_sent: Callable[[DecisionRecord], str],
    ) -> tuple[int, DecisionRecord | None]: ...

    def record_outcome(
        self,
        decision_id: int,
        outcome: AnswerOutcome,
        server_answer: str,
        *,
        at: float | None = None,
        close_request: bool = True,
    ) -> None: ...


class AnswerClient(Protocol):
    """A crew's client, as the inbox uses it to check a pause and send an answer."""

    async def status(self, kickoff_id: str) -> RunStatus: ...

    async def resume(
        self,
        kickoff_id: str,
        task_id: str,
        feedback: str,
        approve: bool,
        *,
        webhooks: Webhooks | None = None,
    ) -> ResumeResult: ...

    async def answer_callback(self, callback_url: str, feedback: str) -> None: ...
