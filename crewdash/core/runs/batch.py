"""Batch kickoff: many runs of one crew from a list of input sets.

Every request waits for the crew's pacer (the rate learnt from 429s, kept in the store), and
concurrency adapts (AIMD): it starts at `max_concurrency` (fewer when the crew's learnt rate
says so: `initial_concurrency`), grows by about one per round of successes and halves on a 429,
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
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from crewdash.aop.errors import (
    AOPError,
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
)
from crewdash.aop.models import HumanInputWebhook, Webhooks
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.runs.batch_types import (
    AIMDLimit,
    BatchProgress,
    BatchResult,
    batch_key,
    initial_concurrency,
)
from crewdash.core.runs.kickoff import (
    KickoffClient,
    KickoffNotSent,
    reconcile_interrupted,
    send_intent,
    start_run,
)
from crewdash.core.runs.pacer import Pacer
from crewdash.core.store.database import PhaseConflict, RunStore
from crewdash.core.timing import Clock, LoopClock, sleep_or_wake

# The batch's parts, importable from here as before.
__all__ = ["AIMDLimit", "BatchProgress", "BatchResult", "batch_key", "run_batch"]


async def run_batch(
    store: RunStore,
    client: KickoffClient,
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
    pacer = pacer or Pacer(crew, clock=clock, store=store)
    limit = AIMDLimit(
        max_concurrency, start=initial_concurrency(max_concurrency, pacer.learnt_rate)
    )
    batch = _Batch(
        store,
        _NotTakenWatch(client, lambda: limit.backoff(clock.monotonic())),
        crew,
        rows,
        key=key or batch_key(rows),
        limit=limit,
        clock=clock,
        pacer=pacer,
        hooks=(webhooks, human_input_webhook),
        max_attempts=max_attempts,
        stop=stop,
        on_progress=on_progress,
        on_started=on_started,
    )
    reconcile_interrupted(store)  # rows of a killed earlier run: not sent, or UNKNOWN
    batch.plan(resend_unknown)
    await batch.drive()
    return batch.result()


class _Batch:
    """One run of a batch: which rows wait, which are in flight, what became of each."""

    def __init__(
        self,
        store: RunStore,
        client: KickoffClient,
        crew: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        key: str,
        limit: AIMDLimit,
        clock: Clock,
        pacer: Pacer,
        hooks: tuple[Webhooks | None, HumanInputWebhook | None],
        max_attempts: int,
        stop: asyncio.Event | None,
        on_progress: Callable[[BatchProgress], None] | None,
        on_started: Callable[[RunRecord], None] | None,
    ) -> None:
        self.store, self.client, self.crew, self.rows, self.key = store, client, crew, rows, key
        self.limit, self.clock, self.pacer, self.hooks = limit, clock, pacer, hooks
        self.max_attempts, self.stop = max_attempts, stop
        self.on_progress, self.on_started = on_progress, on_started
        self.runs: list[RunRecord | None] = [None] * len(rows)
        self.errors: dict[int, str] = {}
        self.counts = {"skipped": 0, "accepted": 0, "refused": 0, "unknown": 0, "busy": 0}
        self.queue: deque[int] = deque()
        self.attempts: dict[int, int] = {}
        self.running: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()
        self.blocked_until = 0.0
        self.abort = False
        self.first_error: list[AOPError] = []
        self.not_sent: set[int] = set()

    def plan(self, resend_unknown: bool) -> None:
        """What an earlier run of this batch left decides what is sent now."""
        for index in range(len(self.rows)):
            local_id = self.store.batch_row_done(self.key, str(index))
            record = self.store.get(local_id) if local_id else None
            self.runs[index] = record
            if record is None or record.phase is KickoffPhase.REFUSED:
                self.queue.append(index)
            elif record.phase is KickoffPhase.ACCEPTED:
                self.counts["skipped"] += 1
            elif record.phase is KickoffPhase.UNKNOWN:
                if resend_unknown:
                    self.queue.append(index)
                else:
                    self.counts["unknown"] += 1
                    self.errors[index] = (
                        f"unknown since an earlier run, not sent again: {record.error}"
                    )
            else:  # INTENT of a live process: another run of this batch is sending it now
                self.counts["busy"] += 1
                self.errors[index] = "being sent by another crewdash process right now"
        self.attempts = dict.fromkeys(self.queue, 0)

    def halted(self) -> bool:
        return self.abort or (self.stop is not None and self.stop.is_set())

    def progress(self) -> BatchProgress:
        left = (len(self.queue) if self.halted() else 0) + len(self.not_sent)
        return BatchProgress(
            total=len(self.rows),
            in_flight=len(self.running),
            limit=self.limit.limit,
            not_started=left,
            **self.counts,
        )

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress())

    async def send(self, index: int) -> RunRecord:
        """One row's kickoff: a new row, or its stored one again (REFUSED, or UNKNOWN with
        `resend_unknown`)."""
        webhooks, human_input_webhook = self.hooks
        record = self.runs[index]
        if record is None:
            return await start_run(
                self.store,
                self.client,
                self.crew,
                self.rows[index],
                batch_row=(self.key, str(index)),
                webhooks=webhooks,
                human_input_webhook=human_input_webhook,
                clock=self.clock,
                pacer=self.pacer,
                stop=self.stop,
                max_attempts=self.max_attempts,
            )
        record = self._reclaim(record)
        self.runs[index] = record
        return await send_intent(
            self.store,
            self.client,
            record,
            webhooks=webhooks,
            human_input_webhook=human_input_webhook,
            clock=self.clock,
            pacer=self.pacer,
            stop=self.stop,
            max_attempts=self.max_attempts,
        )

    def _reclaim(self, record: RunRecord) -> RunRecord:
        if record.phase is not KickoffPhase.UNKNOWN:
            return self.store.reclaim(record.local_id, expect=(KickoffPhase.REFUSED,))
        fresh = str(uuid.uuid4())
        record = self.store.reclaim(
            record.local_id,
            expect=(KickoffPhase.UNKNOWN,),
            request_id=fresh,
            detail=f"sent again (batch --resend-unknown); was request {record.request_id}",
        )
        self.store.record_action(
            record.local_id, "resend", f"batch --resend-unknown, new request id {fresh}"
        )
        return record

    async def one(self, index: int) -> None:
        """Send one row and account for what came of it."""
        self.attempts[index] += 1
        try:
            record = await _first_error_of(self.first_error, self.send(index))
        except KickoffNotSent as exc:
            self.runs[index] = exc.record
            self.not_sent.add(index)
            return
        except PhaseConflict as exc:
            self.runs[index] = exc.current
            self.counts["busy"] += 1
            self.errors[index] = str(exc)
            return
        except AOPError as exc:
            self.errors[index] = str(exc)
            self._failed(index, self._retry_in(exc))
            return
        self.limit.success()
        self.errors.pop(index, None)
        self.runs[index] = record
        self.counts["accepted"] += 1
        if self.on_started is not None:
            self.on_started(record)

    def _retry_in(self, exc: AOPError) -> float | None:
        """How a failed kickoff bears on the batch; seconds before its row may be tried
        again (None: not again in this run)."""
        if isinstance(exc, CircuitOpenError):
            self.limit.backoff(self.clock.monotonic())
            return max(0.5, exc.retry_in)
        if isinstance(exc, ConnectionFailedError | RequestTimeoutError):
            if not exc.may_have_reached_server:  # unreachable: slow down; a cut is a 5xx
                self.limit.backoff(self.clock.monotonic())
            return None if exc.may_have_reached_server else 1.0
        if isinstance(exc, AuthenticationError):
            self.abort = True  # every row would fail the same way; resume later
        # RateLimitedError: not taken after every attempt. ServerError: the run may exist, the
        # row is UNKNOWN, not retried; concurrency is not cut: the pacer keeps the rate and a
        # crew in real trouble opens its circuit breaker.
        return None

    def _failed(self, index: int, retry_in: float | None) -> None:
        local_id = self.store.batch_row_done(self.key, str(index))
        record = self.store.get(local_id) if local_id else None
        self.runs[index] = record
        refused = record is None or record.phase is KickoffPhase.REFUSED
        if refused and retry_in is not None and self.attempts[index] < self.max_attempts:
            self.blocked_until = max(self.blocked_until, self.clock.monotonic() + retry_in)
            self.queue.appendleft(index)
            return
        self.counts["refused" if refused else "unknown"] += 1

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self.changed.set()
        self.report()

    async def _wake_on_stop(self, event: asyncio.Event) -> None:
        await event.wait()
        self.changed.set()

    async def drive(self) -> None:
        """Keep up to the limit of rows in flight until none waits (or the batch halts)."""
        stop = self.stop
        watcher = asyncio.create_task(self._wake_on_stop(stop)) if stop is not None else None
        self.report()
        try:
            while (self.queue and not self.halted()) or self.running:
                now = self.clock.monotonic()
                if self.queue and not self.halted() and now < self.blocked_until:
                    self.changed.clear()
                    await sleep_or_wake(self.clock, self.blocked_until - now, self.changed)
                    continue
                while self.queue and not self.halted() and len(self.running) < self.limit.limit:
                    task = asyncio.create_task(self.one(self.queue.popleft()))
                    self.running.add(task)
                    task.add_done_callback(self._finished)
                self.changed.clear()
                if self.running:
                    await self.changed.wait()
        finally:
            if watcher is not None:
                watcher.cancel()
            for task in list(self.running):
                task.cancel()

    def result(self) -> BatchResult:
        if self.abort:  # every row would fail the same way: say why each was left
            for index in self.queue:
                self.errors.setdefault(index, "not started")
        else:  # stopped: a row waiting for a retry is not done, like one never tried
            for index in self.queue:
                self.errors.pop(index, None)
        self.report()
        return BatchResult(
            key=self.key,
            progress=self.progress(),
            runs=self.runs,
            errors=self.errors,
            stopped=self.stop is not None and self.stop.is_set() and not self.abort,
            first_error=self.first_error[0] if self.first_error else None,
        )


class _NotTakenWatch:
    """The client, telling the batch's concurrency about every 429 (the kickoff protocol
    sends the row again itself; fewer rows in flight make fewer such answers). A 503 only
    delays its own row: with 5% of answers 503, halving on each kept one row in flight."""

    def __init__(self, client: KickoffClient, on_not_taken: Callable[[], None]) -> None:
        self.client = client
        self.on_not_taken = on_not_taken

    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str:
        try:
            kickoff_id = await self.client.kickoff(
                inputs, meta=meta, webhooks=webhooks, human_input_webhook=human_input_webhook
            )
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
