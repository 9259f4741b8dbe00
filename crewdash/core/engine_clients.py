"""The crews' clients as the engine makes and hands them out (`crewdash.core.engine`): what
they are expected to do (`CrewClient`), the default one, and the watch that turns a 401 into
the crew's TOKEN_REJECTED health."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from crewdash.aop.errors import AuthenticationError
from crewdash.core.runs.status_route import load_status_route

if TYPE_CHECKING:  # types only: the records and the HTTP client load on first use
    from crewdash.aop.models import (
        HumanInputWebhook,
        InputSpec,
        ResumeResult,
        RunStatus,
        Secret,
        Webhooks,
    )
    from crewdash.core.config.model import CrewConfig
    from crewdash.core.store.database import RunStore


class EngineError(Exception):
    """A request the engine cannot carry out: unknown crew or run, a crew without a token."""


class CrewClient(Protocol):
    """A crew's client as the engine, the inbox, batch kickoffs and the probe use it."""

    async def health(self) -> float: ...

    async def inputs(self) -> list[InputSpec]: ...

    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str: ...

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

    async def stop(self, kickoff_id: str) -> None: ...

    async def answer_callback(self, callback_url: str, feedback: str) -> None: ...


ClientFactory = Callable[["CrewConfig", "Secret"], CrewClient]


def default_client(store: RunStore, crew: CrewConfig, token: Secret) -> CrewClient:
    """The HTTP client of a crew, with the status route the store remembers for it."""
    from crewdash.aop import AsyncCrewClient, RetryPolicy

    return AsyncCrewClient(
        crew.url,
        token,
        connect_timeout=crew.connect_timeout,
        read_timeout=crew.read_timeout,
        retry=RetryPolicy.none(),  # the monitor owns scheduling and backoff
        status_route=load_status_route(store, crew.name),
    )


# The requests of a client that carry the crew's token. A success of any but `health` (which a
# deployment may answer without looking at the token) shows the token is accepted.
_TOKEN_CALLS = frozenset({"inputs", "kickoff", "status", "resume", "stop", "answer_callback"})


class TokenWatch:
    """A crew's client as the engine hands it out (to the inbox, batch, the probe, callers of
    `client()`): a 401 on any request makes the crew's health TOKEN_REJECTED at once; a later
    success of a request with the token ends that. Everything else passes through (so it is
    a `CrewClient` wherever its client is one)."""

    def __init__(
        self, client: CrewClient, rejected: Callable[[], None], accepted: Callable[[], None]
    ) -> None:
        self._client = client
        self._rejected = rejected
        self._accepted = accepted

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or (name not in _TOKEN_CALLS and name != "health"):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await attr(*args, **kwargs)
            except AuthenticationError:
                self._rejected()
                raise
            if name != "health":
                self._accepted()
            return result

        return call
