"""The kickoff protocol (DESIGN.md, data flow 3): intent row, then the POST, then the id.

A kickoff is not idempotent: a POST whose answer was lost may have started a run. So a kickoff
is sent again only when the request provably never reached the server; otherwise the run is
marked UNKNOWN with an explanation, and the operator checks the deployment.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    UnsupportedError,
    ValidationError,
)
from crewdash.aop.models import HumanInputWebhook, Webhooks
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.store import RunStore

META_KEY = "crewdash_request_id"

MAY_HAVE_STARTED = (
    "the server may have started this run; crewdash did not retry to avoid a duplicate"
    " — check the deployment"
)
NEVER_REACHED = "the request never reached the server; no run was started, safe to try again"

# The server answered "no", or nothing was sent (circuit open): no run exists.
_REFUSALS = (
    AuthenticationError,
    ValidationError,
    NotFoundError,
    UnsupportedError,
    RateLimitedError,
    CircuitOpenError,
)


class _KickoffClient(Protocol):
    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str: ...


class _Clock(Protocol):
    def time(self) -> float: ...


def webhook_urls(
    webhooks: Webhooks | None, human_input_webhook: HumanInputWebhook | None
) -> dict[str, str]:
    """What the store keeps of a kickoff's webhooks: the URLs, never the token."""
    urls: dict[str, str] = {}
    if webhooks is not None:
        for name in ("task_url", "step_url", "crew_url"):
            value = getattr(webhooks, name)
            if value:
                urls[name] = value
    if human_input_webhook is not None:
        urls["human_input_url"] = human_input_webhook.url
    return urls


def webhooks_of(run: RunRecord) -> Webhooks:
    """The webhook URLs a `/resume` of this run must send again."""
    return Webhooks(
        task_url=run.webhooks.get("task_url"),
        step_url=run.webhooks.get("step_url"),
        crew_url=run.webhooks.get("crew_url"),
    )


def _now(clock: _Clock | None) -> float | None:
    # None lets the store stamp the time with its own clock.
    return clock.time() if clock is not None else None


def _is_refusal(exc: BaseException) -> bool:
    if isinstance(exc, _REFUSALS):
        return True
    if isinstance(exc, ConnectionFailedError | RequestTimeoutError):
        return not exc.may_have_reached_server
    return False


async def start_run(
    store: RunStore,
    client: _KickoffClient,
    crew: str,
    inputs: Mapping[str, Any],
    *,
    webhooks: Webhooks | None = None,
    human_input_webhook: HumanInputWebhook | None = None,
    clock: _Clock | None = None,
    batch_row: tuple[str, str] | None = None,
    request_id: str | None = None,
) -> RunRecord:
    """Start one run. Returns the ACCEPTED record; on failure the row is REFUSED or UNKNOWN
    and the client's error is re-raised. `batch_row` maps a batch row to this run atomically
    with the intent. `request_id` (a fresh uuid when not given) names the row on failure:
    `store.find_by_request_id`."""
    request_id = request_id or str(uuid.uuid4())
    run = store.create_intent(
        crew,
        dict(inputs),
        request_id,
        webhook_urls(webhooks, human_input_webhook),
        at=_now(clock),
        batch_row=batch_row,
    )
    try:
        kickoff_id = await client.kickoff(
            inputs,
            meta={META_KEY: request_id},
            webhooks=webhooks,
            human_input_webhook=human_input_webhook,
        )
    except BaseException as exc:  # cancelled too: the POST may be on the wire
        at = _now(clock)
        if _is_refusal(exc):
            reason = str(exc)
            if isinstance(exc, ConnectionFailedError | RequestTimeoutError):
                reason = f"{exc} — {NEVER_REACHED}"
            store.mark_refused(run.local_id, reason, at=at)
        else:
            what = str(exc) if isinstance(exc, AOPError) else type(exc).__name__
            store.mark_unknown(
                run.local_id,
                f"{what} — {MAY_HAVE_STARTED} (request id {request_id} in the run's meta)",
                at=at,
            )
        raise
    return store.mark_accepted(run.local_id, kickoff_id, at=_now(clock))


def reconcile_interrupted(store: RunStore) -> list[RunRecord]:
    """Call once at start: an INTENT row means crewdash stopped between writing the intent and
    saving the server's answer. Each becomes UNKNOWN; it is never sent again automatically."""
    changed = []
    for run in store.unfinished():
        if run.phase is KickoffPhase.INTENT:
            reason = (
                "crewdash stopped before the server's answer to this kickoff was saved — "
                f"{MAY_HAVE_STARTED} (request id {run.request_id} in the run's meta)"
            )
            changed.append(store.mark_unknown(run.local_id, reason))
    return changed
