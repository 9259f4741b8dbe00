"""What a batch is made of: its key, its adaptive concurrency limit, its progress and its
result (`crewdash.core.runs.batch` runs one)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crewdash.aop.errors import AOPError
from crewdash.core.models import KickoffPhase, RunRecord


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


def initial_concurrency(maximum: int, learnt_rate: float | None) -> int:
    """How many kickoffs a batch starts with: all it may (`maximum`), since ramping up from
    two cost a batch at 100 ms latency a third of its time (issue 17), unless the crew's
    learnt rate says fewer will do: at `rate` requests/s, `ceil(rate)` in flight keep the
    pace while a kickoff takes under a second, and more would only queue at the pacer, each
    one a row's intent waiting (and a bigger burst to halve if the crew's limit fell)."""
    maximum = max(1, maximum)
    if learnt_rate is None:
        return maximum
    return max(1, min(maximum, math.ceil(learnt_rate)))


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
