"""What the monitor uses of its neighbours, and nothing more: the store's three calls and a
crew client's one. Any object with these methods will do (the real ones, or a test's fake)."""

from __future__ import annotations

from types import EllipsisType
from typing import Protocol

from crewdash.aop.models import RunStatus
from crewdash.core.models import RunRecord


class StatusClient(Protocol):
    """A crew's AOP client, as far as polling goes."""

    async def status(self, kickoff_id: str) -> RunStatus: ...


class MonitorStore(Protocol):
    """The run store, as far as the monitor reads and writes it."""

    def get(self, local_id: str) -> RunRecord | None: ...

    def record_status(
        self, local_id: str, status: RunStatus, at: float, *, seen_at: float | None = None
    ) -> tuple[RunRecord, bool]:
        """Apply one observation; the record after it, and whether anything changed."""
        ...

    def set_flags(
        self,
        local_id: str,
        *,
        stalled: bool | None = None,
        offline_since: float | EllipsisType | None = ...,
        note: str | EllipsisType | None = ...,
    ) -> RunRecord:
        """The monitor's flags on a run (`...` leaves a field as it is)."""
        ...


__all__ = ["MonitorStore", "StatusClient"]
