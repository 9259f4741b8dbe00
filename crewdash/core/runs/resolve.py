"""Resolving an UNKNOWN kickoff: the operator's (or a webhook's) word on what happened.

- adopt: the operator found the run in the AOP dashboard; its kickoff id is checked with a
  status call, then the row becomes ACCEPTED and is watched like any other run;
- resend: send it again, with a fresh request id, knowing it may start a duplicate;
- dismiss: the operator says it did not start; the row becomes REFUSED;
- automatic adoption: a webhook whose `meta` carries the row's request id names its run.

Every action is written to the audit trail (`store.actions(local_id)`) before it takes
effect, with who did it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from crewdash.aop.errors import NotFoundError
from crewdash.aop.models import HumanInputWebhook, RunStatus, Webhooks
from crewdash.core.audit import WEBHOOK, answer_of_error
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.kickoff import META_KEY, send_intent, webhooks_of
from crewdash.core.runs.pacer import Pacer
from crewdash.core.store.database import PhaseConflict, RunStore

DUPLICATE_RISK = (
    "the first request may have started a run on the server; sending it again may start a "
    "second one (a duplicate)"
)


class ResolveClient(Protocol):
    """What resolving needs of a crew's client: a status call to check an id (adopt) and a
    kickoff to send again (resend). `AsyncCrewClient` is one."""

    async def status(self, kickoff_id: str) -> RunStatus: ...

    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str: ...


class ResolveError(Exception):
    """The action cannot be done: the run is not UNKNOWN, the id is unknown to the server."""


def find_run(store: RunStore, crew: str, ref: str) -> RunRecord:
    """A run of `crew` by local id, a unique prefix of one (at least 4 characters), its
    request id or its kickoff id."""
    ref = ref.strip()
    found = store.get(ref) or store.find_by_request_id(ref)
    if found is None:
        found = store.find_by_kickoff_id(crew, ref)
    if found is None and len(ref) >= 4:
        matches = [r for r in store.list_runs(crew=crew) if r.local_id.startswith(ref)]
        if len(matches) > 1:
            raise ResolveError(
                f"{ref!r} names {len(matches)} runs of {crew}; give more of the local id"
            )
        found = matches[0] if matches else None
    if found is None or found.crew != crew:
        raise ResolveError(
            f"no run {ref!r} of crew {crew} in the store (see `crewdash runs --crew {crew}"
            " --phase unknown`)"
        )
    return found


def _require_unknown(record: RunRecord, action: str) -> None:
    if record.phase is not KickoffPhase.UNKNOWN:
        raise ResolveError(
            f"run {record.local_id} is {record.phase}, not unknown: only an unknown kickoff "
            f"can be {action}"
        )


async def adopt(
    store: RunStore,
    client: ResolveClient,
    record: RunRecord,
    kickoff_id: str,
    *,
    user: str | None = None,
    now: float | None = None,
) -> tuple[RunRecord, RunStatus]:
    """Attach `kickoff_id` to an UNKNOWN row after the server confirmed it knows the run.
    Returns the row (ACCEPTED, with the status applied) and that status."""
    _require_unknown(record, "adopted")
    kickoff_id = kickoff_id.strip()
    other = store.find_by_kickoff_id(record.crew, kickoff_id)
    if other is not None and other.local_id != record.local_id:
        raise ResolveError(f"kickoff id {kickoff_id} already belongs to run {other.local_id}")
    try:
        status = await client.status(kickoff_id)
    except NotFoundError as exc:
        store.record_action(
            record.local_id,
            "adopt",
            f"kickoff id {kickoff_id}: not adopted, the server does not know it",
            user=user,
            server_answer=answer_of_error(exc),
        )
        raise ResolveError(
            f"crew {record.crew} does not know a run {kickoff_id} (or it has expired); "
            "check the id in the AOP dashboard"
        ) from None
    store.record_action(
        record.local_id,
        "adopt",
        f"kickoff id {kickoff_id}; server says {status.raw_state}",
        user=user,
        server_answer=f"2xx: status {status.raw_state}",
    )
    try:
        store.adopt(record.local_id, kickoff_id, f"adopted by {user or 'the operator'}")
    except PhaseConflict as exc:
        raise ResolveError(str(exc)) from None
    updated, _ = store.record_status(
        record.local_id, status, now if now is not None else time.time()
    )
    return updated, status


def dismiss(
    store: RunStore, record: RunRecord, *, user: str | None = None, reason: str = ""
) -> RunRecord:
    """The operator says this UNKNOWN kickoff did not start a run."""
    _require_unknown(record, "dismissed")
    why = reason or "the operator says it did not start"
    store.record_action(record.local_id, "dismiss", why, user=user)
    try:
        return store.mark_refused(
            record.local_id, f"dismissed: {why}", expect=(KickoffPhase.UNKNOWN,)
        )
    except PhaseConflict as exc:
        raise ResolveError(str(exc)) from None


async def resend(
    store: RunStore,
    client: ResolveClient,
    record: RunRecord,
    *,
    user: str | None = None,
    pacer: Pacer | None = None,
    **send: Any,
) -> RunRecord:
    """Send an UNKNOWN kickoff again on the same row, with a fresh request id (the caller
    confirmed `DUPLICATE_RISK`). The kickoff's errors are raised as by `send_intent`."""
    _require_unknown(record, "sent again")
    fresh = str(uuid.uuid4())
    store.record_action(
        record.local_id,
        "resend",
        f"new request id {fresh} (was {record.request_id}); {DUPLICATE_RISK}",
        user=user,
    )
    try:
        claimed = store.reclaim(
            record.local_id,
            expect=(KickoffPhase.UNKNOWN,),
            request_id=fresh,
            detail=f"sent again by {user or 'the operator'}; was request {record.request_id}",
        )
    except PhaseConflict as exc:
        raise ResolveError(str(exc)) from None
    send.setdefault("webhooks", webhooks_of(record) if record.webhooks else None)
    return await send_intent(store, client, claimed, pacer=pacer, **send)


def adopt_from_webhook(store: RunStore, crew: str, payload: Mapping[str, Any]) -> RunRecord | None:
    """A webhook delivery whose `meta` carries an UNKNOWN row's request id names its run:
    adopt it (no status call needed, the server itself said so). None when nothing to do."""
    meta = payload.get("meta")
    kickoff_id = payload.get("kickoff_id") or payload.get("execution_id")
    if not isinstance(meta, Mapping) or not isinstance(kickoff_id, str) or not kickoff_id:
        return None
    request_id = meta.get(META_KEY)
    if not isinstance(request_id, str):
        return None
    record = store.find_by_request_id(request_id)
    if record is None or record.crew != crew or record.phase is not KickoffPhase.UNKNOWN:
        return None
    if store.find_by_kickoff_id(crew, kickoff_id) is not None:
        return None
    store.record_action(
        record.local_id,
        "auto-adopt",
        f"kickoff id {kickoff_id} from a webhook",
        user="webhook",
        channel=WEBHOOK,
    )
    try:
        return store.adopt(record.local_id, kickoff_id, "adopted: a webhook named its run")
    except PhaseConflict:
        return None
