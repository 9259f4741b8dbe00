"""Batch kickoff: many runs of one crew from a list of input sets.

Concurrency adapts (AIMD): it grows by about one per round of successes and halves on a 429 or
a 5xx, always within [1, max_concurrency]. Each row goes through the kickoff protocol of
`crewdash.core.kickoff.start_run` with its batch row recorded in the same transaction as the
intent, so running the same batch again skips every row already kicked off; only rows the
server provably refused (a 429, a circuit open, a connection refused) are sent again.

Stopping: once the `stop` event is set no further kickoff is started; those already sent
finish and are recorded. Rows never started leave no row in the store (they are simply not
done yet, and the next run of the same batch does them); `progress.not_started` counts them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
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
from crewdash.core.kickoff import start_run
from crewdash.core.models import KickoffPhase, RunRecord
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
    skipped: int = 0  # kicked off by an earlier attempt of this batch
    accepted: int = 0
    refused: int = 0
    unknown: int = 0
    in_flight: int = 0
    limit: int = 1
    not_started: int = 0  # left by a stop or an abort: the next run of the batch does them

    @property
    def done(self) -> int:
        return self.skipped + self.accepted + self.refused + self.unknown


@dataclass(slots=True)
class BatchResult:
    key: str
    progress: BatchProgress
    runs: list[RunRecord | None] = field(default_factory=list)  # per row, as stored
    errors: dict[int, str] = field(default_factory=dict)  # row index -> why it did not start
    stopped: bool = False  # the `stop` event ended the batch early
    first_error: AOPError | None = None  # the first error a kickoff raised, for exit codes


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
) -> BatchResult:
    """Kick off one run per row; see the module docstring. Setting `stop` ends the batch
    after the kickoffs in flight."""
    clock = clock or LoopClock()
    key = key or batch_key(rows)
    limit = AIMDLimit(max_concurrency)
    runs: list[RunRecord | None] = [None] * len(rows)
    errors: dict[int, str] = {}
    counts = {"skipped": 0, "accepted": 0, "refused": 0, "unknown": 0}
    queue: deque[int] = deque()
    for index in range(len(rows)):
        local_id = store.batch_row_done(key, str(index))
        record = store.get(local_id) if local_id else None
        if record is not None and record.phase is not KickoffPhase.REFUSED:
            runs[index] = record
            counts["skipped"] += 1
        else:
            queue.append(index)
    attempts = dict.fromkeys(queue, 0)
    running: set[asyncio.Task[None]] = set()
    changed = asyncio.Event()
    state = {"blocked_until": 0.0, "abort": False}
    first_error: list[AOPError] = []

    def halted() -> bool:
        return bool(state["abort"]) or (stop is not None and stop.is_set())

    def progress() -> BatchProgress:
        left = len(queue) if halted() else 0
        return BatchProgress(
            total=len(rows), in_flight=len(running), limit=limit.limit, not_started=left, **counts
        )

    def report() -> None:
        if on_progress is not None:
            on_progress(progress())

    async def one(index: int) -> None:
        attempts[index] += 1
        retry_in: float | None = None
        try:
            record = await _first_error_of(
                first_error,
                start_run(
                    store,
                    client,
                    crew,
                    rows[index],
                    webhooks=webhooks,
                    human_input_webhook=human_input_webhook,
                    clock=clock,
                    batch_row=(key, str(index)),
                ),
            )
        except RateLimitedError as exc:
            limit.backoff(clock.monotonic())
            retry_in = exc.retry_after if exc.retry_after else 1.0
            errors[index] = str(exc)
        except CircuitOpenError as exc:
            limit.backoff(clock.monotonic())
            retry_in = max(0.5, exc.retry_in)
            errors[index] = str(exc)
        except (ConnectionFailedError, RequestTimeoutError) as exc:
            limit.backoff(clock.monotonic())
            retry_in = None if exc.may_have_reached_server else 1.0
            errors[index] = str(exc)
        except ServerError as exc:
            limit.backoff(clock.monotonic())  # the run may exist: the row is UNKNOWN, not retried
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


async def _first_error_of(seen: list[AOPError], work: Awaitable[RunRecord]) -> RunRecord:
    """Await `work`, remembering the first AOPError any kickoff of the batch raised."""
    try:
        return await work
    except AOPError as exc:
        if not seen:
            seen.append(exc)
        raise
