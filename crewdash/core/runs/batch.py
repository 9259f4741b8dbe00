"""Batch kickoff: many runs of one crew from a list of input sets.

Every request waits for the crew's pacer (the rate learnt from 429s, kept in the store), and
concurrency adapts (AIMD): it grows by about one per round of successes and halves on a 429,
an open circuit or an unreachable crew, always within [1, max_concurrency]. Each row goes
through the kickoff protocol of `crewdash.core.runs.kickoff` with its batch row recorded in the
same transaction as the intent: one store row per input row, whatever number of requests it
took (a 429 or 503 sends the same row again). Running the same batch again (after a crash, a
Ctrl+C) first settles the rows of a dead earlier run, then skips every ACCEPTED row, sends
again every row that provably never reached the server (REFUSED: not sent, refused, not
taken), and leaves UNKNOWN rows alone unless `resend_unknown` is given; a row another live
process is sending is left to it.

Stopping: once the `stop` event is set no further kickoff is started; those already sent
finish and are recorded. Rows never started leave no row in the store, or a *not sent* one
(they are simply not done yet, and the next run of the same batch does them);
`progress.not_started` counts them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from crewdash.aop.models import HumanInputWebhook, Webhooks
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.kickoff import KickoffNotSent, reconcile_interrupted, send_intent, start_run
from crewdash.core.runs.pacer import Pacer
from crewdash.core.store.database import PhaseConflict
from crewdash.core.timing import Clock, LoopClock, sleep_or_wake


def batch_key(source: bytes | str | Sequence[Mapping[str, Any]]) -> str:
    """A stable key for a batch: the hash of the file's bytes (or of the rows as JSON)."""
    if isinstance(source, str):
        data = source.encode()
    elif isinstance(source, bytes):
        data = source
    else:
        data = json.dumps(list(source), sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:32]


class AIMDLimit:
    """Additive increase (+1 per `value` successes), multiplicative decrease (halve, at most
    once per `cooldown` seconds so one burst of failures counts once)."""

    def __init__(self, maximum: int, *, start: float | None = None, cooldown: float = 1.0) -> None:
        self.maximum = max(1, maximum)
        self.value = float(min(self.maximum, start if start is not None else 2.0))
        self.value = max(1.0, self.value)
        self.cooldown = cooldown
        self._cut_at = float("-inf")

    @property
    def limit(self) -> int:
        return max(1, min(self.maximum, int(self.value)))

    def success(self) -> None:
        self.value = min(float(self.maximum), self.value + 1.0 / self.value)

    def backoff(self, now: float) -> None:
        if now - self._cut_at >= self.cooldown:
            self._cut_at = now
            self.value = max(1.0, self.value / 2.0)


@dataclass(frozen=True, slots=True)
class BatchProgress:
    total: int
    skipped: int = 0  # accepted by an earlier run of this batch
    accepted: int = 0
    refused: int = 0
    unknown: int = 0  # may have started (this run or an earlier one): not sent again
    in_flight: int = 0
    limit: int = 1
    not_started: int = 0  # left by a stop or an abort: the next run of the batch does them
    busy: int = 0  # being sent right now by another live process

    @property
    def done(self) -> int:
        return self.skipped + self.accepted + self.refused + self.unknown + self.busy

    @property
    def all_accepted(self) -> bool:
        return self.skipped + self.accepted == self.total


@dataclass(slots=True)
class BatchResult:
    key: str
    progress: BatchProgress
    runs: list[RunRecord | None] = field(default_factory=list)  # per row, as stored
    errors: dict[int, str] = field(default_factory=dict)  # row index -> why it is not accepted
    stopped: bool = False  # the `stop` event ended the batch early
    first_error: AOPError | None = None  # the first error a kickoff raised, for exit codes

    def account(self) -> list[dict[str, Any]]:
        """Every row not accepted: index, local id, phase (or "not started"), why."""
        rows = []
        for index, run in enumerate(self.runs):
            if run is not None and run.phase is KickoffPhase.ACCEPTED:
                continue
            if run is None and index not in self.errors:
                phase = "not_started"
            else:
                phase = str(run.phase) if run is not None else "not_started"
            rows.append(
                {
                    "index": index,
                    "local_id": run.local_id if run is not None else None,
                    "phase": phase,
                    "attempts": run.attempts if run is not None else 0,
                    "reason": self.errors.get(index) or (run.error if run is not None else ""),
                }
            )
        return rows


async def run_batch(
    store: Any,
    client: Any,
    crew: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str | None = None,
    max_concurrency: int = 8,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_started: Callable[[RunRecord], None] | None = None,
    webhooks: Webhooks | None = None,
    human_input_webhook: HumanInputWebhook | None = None,
    clock: Clock | None = None,
    max_attempts: int = 5,
    stop: asyncio.Event | None = None,
    pacer: Pacer | None = None,
    resend_unknown: bool = False,
) -> BatchResult:
    """Kick off one run per row; see the module docstring. Setting `stop` ends the batch
    after the kickoffs in flight. `resend_unknown` sends again the rows an earlier run left
    UNKNOWN (the caller has confirmed the risk of a duplicate)."""
    clock = clock or LoopClock()
    key = key or batch_key(rows)
    pacer = pacer or Pacer(crew, clock=clock, store=store)
    reconcile_interrupted(store)  # rows of a killed earlier run: not sent, or UNKNOWN
    limit = AIMDLimit(max_concurrency)
    runs: list[RunRecord | None] = [None] * len(rows)
    errors: dict[int, str] = {}
    counts = {"skipped": 0, "accepted": 0, "refused": 0, "unknown": 0, "busy": 0}
    queue: deque[int] = deque()
    for index in range(len(rows)):
        local_id = store.batch_row_done(key, str(index))
        record = store.get(local_id) if local_id else None
        runs[index] = record
        if record is None or record.phase is KickoffPhase.REFUSED:
            queue.append(index)
        elif record.phase is KickoffPhase.ACCEPTED:
            counts["skipped"] += 1
        elif record.phase is KickoffPhase.UNKNOWN:
            if resend_unknown:
                queue.append(index)
            else:
                counts["unknown"] += 1
                errors[index] = f"unknown since an earlier run, not sent again: {record.error}"
        else:  # INTENT of a live process: another run of this batch is sending it now
            counts["busy"] += 1
            errors[index] = "being sent by another crewdash process right now"
    attempts = dict.fromkeys(queue, 0)
    running: set[asyncio.Task[None]] = set()
    changed = asyncio.Event()
    state = {"blocked_until": 0.0, "abort": False}
    first_error: list[AOPError] = []
    not_sent: set[int] = set()

    def halted() -> bool:
        return bool(state["abort"]) or (stop is not None and stop.is_set())

    def progress() -> BatchProgress:
        left = (len(queue) if halted() else 0) + len(not_sent)
        return BatchProgress(
            total=len(rows), in_flight=len(running), limit=limit.limit, not_started=left, **counts
        )

    def report() -> None:
        if on_progress is not None:
            on_progress(progress())

    watched = _NotTakenWatch(client, lambda: limit.backoff(clock.monotonic()))

    async def send(index: int) -> RunRecord:
        hooks = {"webhooks": webhooks, "human_input_webhook": human_input_webhook}
        common = {"clock": clock, "pacer": pacer, "stop": stop, "max_attempts": max_attempts}
        record = runs[index]
        if record is None:
            return await start_run(
                store, watched, crew, rows[index], batch_row=(key, str(index)), **hooks, **common
            )
        if record.phase is KickoffPhase.UNKNOWN:
            fresh = str(uuid.uuid4())
            record = store.reclaim(
                record.local_id,
                expect=(KickoffPhase.UNKNOWN,),
                request_id=fresh,
                detail=f"sent again (batch --resend-unknown); was request {record.request_id}",
            )
            store.record_action(
                record.local_id, "resend", f"batch --resend-unknown, new request id {fresh}"
            )
        else:
            record = store.reclaim(record.local_id, expect=(KickoffPhase.REFUSED,))
        runs[index] = record
        return await send_intent(store, watched, record, **hooks, **common)

    async def one(index: int) -> None:
        attempts[index] += 1
        retry_in: float | None = None
        try:
            record = await _first_error_of(first_error, send(index))
        except KickoffNotSent as exc:
            runs[index] = exc.record
            not_sent.add(index)
            return
        except PhaseConflict as exc:
            runs[index] = exc.current
            counts["busy"] += 1
            errors[index] = str(exc)
            return
        except RateLimitedError as exc:  # not taken after every attempt
            errors[index] = str(exc)
        except CircuitOpenError as exc:
            limit.backoff(clock.monotonic())
            retry_in = max(0.5, exc.retry_in)
            errors[index] = str(exc)
        except (ConnectionFailedError, RequestTimeoutError) as exc:
            if not exc.may_have_reached_server:  # unreachable: slow down; a cut is a 5xx
                limit.backoff(clock.monotonic())
            retry_in = None if exc.may_have_reached_server else 1.0
            errors[index] = str(exc)
        except ServerError as exc:
            # the run may exist: the row is UNKNOWN, not retried. Concurrency is not cut: the
            # pacer keeps the rate and a crew in real trouble opens its circuit breaker.
            errors[index] = str(exc)
        except AuthenticationError as exc:
            state["abort"] = True  # every row would fail the same way; resume later
            errors[index] = str(exc)
        except AOPError as exc:
            errors[index] = str(exc)
        else:
            limit.success()
            errors.pop(index, None)
            runs[index] = record
            counts["accepted"] += 1
            if on_started is not None:
                on_started(record)
            return
        local_id = store.batch_row_done(key, str(index))
        record = store.get(local_id) if local_id else None
        runs[index] = record
        refused = record is None or record.phase is KickoffPhase.REFUSED
        if refused and retry_in is not None and attempts[index] < max_attempts:
            state["blocked_until"] = max(state["blocked_until"], clock.monotonic() + retry_in)
            queue.appendleft(index)
            return
        counts["refused" if refused else "unknown"] += 1

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        changed.set()
        report()

    async def wake_on_stop(event: asyncio.Event) -> None:
        await event.wait()
        changed.set()

    watcher = asyncio.create_task(wake_on_stop(stop)) if stop is not None else None
    report()
    try:
        while (queue and not halted()) or running:
            now = clock.monotonic()
            if queue and not halted() and now < state["blocked_until"]:
                changed.clear()
                await sleep_or_wake(clock, state["blocked_until"] - now, changed)
                continue
            while queue and not halted() and len(running) < limit.limit:
                task = asyncio.create_task(one(queue.popleft()))
                running.add(task)
                task.add_done_callback(finished)
            changed.clear()
            if running:
                await changed.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        for task in list(running):
            task.cancel()
    if state["abort"]:  # every row would fail the same way: say why each was left
        for index in queue:
            errors.setdefault(index, "not started")
    else:  # stopped: a row waiting for a retry is not done, like one never tried
        for index in queue:
            errors.pop(index, None)
    report()
    return BatchResult(
        key=key,
        progress=progress(),
        runs=runs,
        errors=errors,
        stopped=stop is not None and stop.is_set() and not state["abort"],
        first_error=first_error[0] if first_error else None,
    )


class _NotTakenWatch:
    """The client, telling the batch's concurrency about every 429 (the kickoff protocol
    sends the row again itself; fewer rows in flight make fewer such answers). A 503 only
    delays its own row: with 5% of answers 503, halving on each kept one row in flight."""

    def __init__(self, client: Any, on_not_taken: Callable[[], None]) -> None:
        self.client = client
        self.on_not_taken = on_not_taken

    async def kickoff(self, inputs: Mapping[str, Any], **kwargs: Any) -> str:
        try:
            kickoff_id: str = await self.client.kickoff(inputs, **kwargs)
        except RateLimitedError:
            self.on_not_taken()
            raise
        return kickoff_id


async def _first_error_of(seen: list[AOPError], work: Awaitable[RunRecord]) -> RunRecord:
    """Await `work`, remembering the first AOPError any kickoff of the batch raised."""
    try:
        return await work
    except AOPError as exc:
        if not seen:
            seen.append(exc)
        raise
