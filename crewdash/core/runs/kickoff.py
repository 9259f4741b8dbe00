"""The kickoff protocol (docs/design.md#kickoff-protocol): intent row, then the POST, then the id.

A kickoff is not idempotent: a POST whose answer was lost may have started a run. So a kickoff
is sent again only when the request provably never reached the server or the server said it
did not take it (429, 503); otherwise the run is marked UNKNOWN with an explanation, and the
operator resolves it (adopt, resend, dismiss: `crewdash.core.runs.resolve`).

Every row being sent belongs to a live process (its lease, `crewdash.core.runs.lease`); the moment
each request goes on the wire is stamped first (`sent_at`), so a row whose process died is
either *not sent* or *may have been sent*, never a guess.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnsupportedError,
    ValidationError,
)
from crewdash.aop.models import HumanInputWebhook, Webhooks
from crewdash.core.audit import answer_of_error
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.pacer import Pacer
from crewdash.core.store.database import PhaseConflict, RunStore
from crewdash.core.timing import sleep_or_wake

META_KEY = "crewdash_request_id"

MAY_HAVE_STARTED = (
    "the server may have started this run; crewdash did not retry to avoid a duplicate"
    " — check the deployment"
)
NEVER_REACHED = "the request never reached the server; no run was started, safe to try again"
ID_UNREADABLE = (
    "started, id unreadable: the server answered the kickoff with success but its body could"
    " not be read, so a run was most likely started"
)
NOT_SENT = "not sent: crewdash stopped before this kickoff went on the wire; safe to send again"
HOW_TO_RESOLVE = (
    "resolve with `crewdash adopt CREW RUN KICKOFF_ID` (found in the AOP dashboard),"
    " `crewdash resend CREW RUN` or `crewdash dismiss CREW RUN`"
)

#: how many times a row is sent while the server says "not now" (429, 503) before it is
#: left REFUSED (nothing started; the next run of the batch or a retry sends it)
MAX_ATTEMPTS = 8

# The server answered "no", or nothing was sent (circuit open): no run exists.
_REFUSALS = (
    AuthenticationError,
    ValidationError,
    NotFoundError,
    UnsupportedError,
    CircuitOpenError,
)


class KickoffClient(Protocol):
    """What the kickoff protocol uses of a crew's client."""

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


class KickoffNotSent(Exception):
    """The kickoff was stopped (a `stop` event) before it went on the wire: its row, if one
    was written, is REFUSED with `NOT_SENT`, safe to send again."""

    def __init__(self, record: RunRecord | None) -> None:
        super().__init__(NOT_SENT)
        self.record = record


class Outcome(StrEnum):
    """What one kickoff request's failure means for its row."""

    NOT_TAKEN = "not_taken"  # 429, 503: the server did not take it; send again after a wait
    REFUSED = "refused"  # no run exists (a refusal, or the request never reached the server)
    UNREADABLE = "unreadable"  # a 2xx whose body could not be read: started, id unreadable
    UNKNOWN = "unknown"  # may have started a run (500/502/504, a drop after sending, ...)


def classify(exc: BaseException) -> Outcome:
    if isinstance(exc, RateLimitedError):
        return Outcome.NOT_TAKEN
    if isinstance(exc, ServerError) and exc.status_code == 503:
        return Outcome.NOT_TAKEN
    if isinstance(exc, _REFUSALS):
        return Outcome.REFUSED
    if isinstance(exc, ConnectionFailedError | RequestTimeoutError):
        return Outcome.UNKNOWN if exc.may_have_reached_server else Outcome.REFUSED
    if isinstance(exc, ProtocolError):
        code = exc.status_code
        if code is not None and 300 <= code < 400:
            return Outcome.REFUSED  # a redirect: the request never got to the crew
        return Outcome.UNREADABLE
    return Outcome.UNKNOWN


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


def unknown_reason(what: str, request_id: str) -> str:
    return (
        f"{what} — {MAY_HAVE_STARTED} (request id {request_id} in the run's meta); {HOW_TO_RESOLVE}"
    )


async def start_run(
    store: RunStore,
    client: KickoffClient,
    crew: str,
    inputs: Mapping[str, Any],
    *,
    webhooks: Webhooks | None = None,
    human_input_webhook: HumanInputWebhook | None = None,
    clock: _Clock | None = None,
    batch_row: tuple[str, str] | None = None,
    request_id: str | None = None,
    pacer: Pacer | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    stop: asyncio.Event | None = None,
) -> RunRecord:
    """Start one run. Returns the ACCEPTED record; on failure the row is REFUSED or UNKNOWN
    and the client's error is re-raised (KickoffNotSent when stopped before sending).
    `batch_row` maps a batch row to this run atomically with the intent. `request_id` (a
    fresh uuid when not given) names the row on failure: `store.find_by_request_id`."""
    request_id = request_id or str(uuid.uuid4())
    pacer = pacer or Pacer(crew)
    # The turn first, then the intent: a stop while waiting for it leaves no row at all.
    admitted = await pacer.wait(stop)
    if admitted is None:
        raise KickoffNotSent(None)
    run = store.create_intent(
        crew,
        dict(inputs),
        request_id,
        webhook_urls(webhooks, human_input_webhook),
        at=_now(clock),
        batch_row=batch_row,
    )
    return await send_intent(
        store,
        client,
        run,
        webhooks=webhooks,
        human_input_webhook=human_input_webhook,
        clock=clock,
        pacer=pacer,
        max_attempts=max_attempts,
        stop=stop,
        admitted=admitted,
    )


async def send_intent(
    store: RunStore,
    client: KickoffClient,
    run: RunRecord,
    *,
    webhooks: Webhooks | None = None,
    human_input_webhook: HumanInputWebhook | None = None,
    clock: _Clock | None = None,
    pacer: Pacer | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    stop: asyncio.Event | None = None,
    admitted: float | None = None,
) -> RunRecord:
    """Send an INTENT row of ours until the server takes it or says something final.

    Before each request the pacer gives the turn, then `sent_at` is stamped (so a crash
    from here on leaves a row that *may have been sent*); a 429 or 503 clears it again and
    the same row is sent after the wait the server asked for, counting attempts."""
    pacer = pacer or Pacer(run.crew)
    local_id = run.local_id
    attempt = 0
    while True:
        attempt += 1
        first = admitted if attempt == 1 else None
        sent_at = await _turn(store, pacer, local_id, first, clock=clock, stop=stop)
        store.begin_send(local_id, at=_now(clock))  # PhaseConflict: not ours, not sent
        try:
            kickoff_id = await client.kickoff(
                run.inputs,
                meta={META_KEY: run.request_id},
                webhooks=webhooks,
                human_input_webhook=human_input_webhook,
            )
        except BaseException as exc:  # cancelled too: the POST may be on the wire
            again = attempt < max_attempts
            if await _failed(store, pacer, run, exc, attempt, sent_at, again, clock, stop):
                continue
            raise
        return store.mark_accepted(local_id, kickoff_id, at=_now(clock))


async def _turn(
    store: RunStore,
    pacer: Pacer,
    local_id: str,
    admitted: float | None,
    *,
    clock: _Clock | None,
    stop: asyncio.Event | None,
) -> float:
    """The pacer's turn for one request (`admitted` when already given); a stop or a
    cancel while waiting leaves the row REFUSED as not sent."""
    if admitted is not None:
        return admitted
    try:
        sent_at = await pacer.wait(stop)
    except asyncio.CancelledError:
        store.mark_refused(local_id, NOT_SENT, at=_now(clock))
        raise
    if sent_at is None:
        raise KickoffNotSent(store.mark_refused(local_id, NOT_SENT, at=_now(clock)))
    return sent_at


async def _failed(
    store: RunStore,
    pacer: Pacer,
    run: RunRecord,
    exc: BaseException,
    attempt: int,
    sent_at: float,
    again: bool,
    clock: _Clock | None,
    stop: asyncio.Event | None,
) -> bool:
    """Record what a failed request means for its row; True when the row is to be sent
    again (not taken, attempts left). Raises KickoffNotSent when stopped while waiting."""
    local_id, at = run.local_id, _now(clock)
    outcome = classify(exc)
    said = answer_of_error(exc)  # for the audit trail
    if outcome is Outcome.NOT_TAKEN:
        row_wait = 0.0
        if isinstance(exc, RateLimitedError):
            pacer.learn_429(exc.retry_after, sent_at)  # the whole crew waits
        else:  # a 503: this row waits (backoff with jitter); the crew goes on
            row_wait = random.uniform(0.5, 1.0) * min(30.0, 0.5 * 2 ** min(attempt, 6))
        if again:
            store.mark_not_taken(local_id, str(exc), at=at)
            if row_wait and await _wait_or_stop(pacer, row_wait, stop):
                raise KickoffNotSent(
                    store.mark_refused(local_id, NOT_SENT, at=_now(clock))
                ) from None
            return True
        store.mark_refused(
            local_id,
            f"{exc} — not taken after {attempt} attempts; {NEVER_REACHED}",
            at=at,
            answer=said,
        )
    elif outcome is Outcome.REFUSED:
        reason = str(exc)
        if isinstance(exc, ConnectionFailedError | RequestTimeoutError):
            reason = f"{exc} — {NEVER_REACHED}"
        store.mark_refused(local_id, reason, at=at, answer=said)
    elif outcome is Outcome.UNREADABLE:
        store.mark_unknown(
            local_id,
            f"{ID_UNREADABLE} ({exc}) (request id {run.request_id} in the run's meta); "
            f"{HOW_TO_RESOLVE}",
            at=at,
            answer=said,
        )
    else:
        what = str(exc) if isinstance(exc, AOPError) else type(exc).__name__
        store.mark_unknown(local_id, unknown_reason(what, run.request_id), at=at, answer=said)
    return False


async def _wait_or_stop(pacer: Pacer, seconds: float, stop: asyncio.Event | None) -> bool:
    """Wait `seconds` on the pacer's clock; True if `stop` was set first."""
    if stop is None:
        await pacer.clock.sleep(seconds)
        return False
    await sleep_or_wake(pacer.clock, seconds, stop)
    return stop.is_set()


def reconcile_interrupted(store: RunStore) -> list[RunRecord]:
    """Call at start: settle every INTENT row whose owner process is gone (rows another live
    process is sending are left alone). A row whose request never went on the wire is
    REFUSED as *not sent* (safe: the next run of its batch, or a retry, sends it); a row
    whose request may have gone is UNKNOWN, never sent again automatically."""
    changed = []
    for run in store.orphans():
        if run.sent_at is None:
            phase, reason = KickoffPhase.REFUSED, NOT_SENT
        else:
            phase = KickoffPhase.UNKNOWN
            reason = unknown_reason(
                "crewdash stopped after sending this kickoff, before its answer was saved",
                run.request_id,
            )
        try:
            changed.append(store.settle_orphan(run, phase, reason))
        except PhaseConflict:
            continue  # another process settled or took it meanwhile
    return changed
