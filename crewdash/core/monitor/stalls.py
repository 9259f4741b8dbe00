"""Stall detection: a run that shows no progress for much longer than its crew's runs usually
take is flagged "stalled" (only flagged: it may still finish, and any change clears the flag).

Pure and synchronous: times are passed in.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection

from crewdash.aop.models import RunState
from crewdash.core.models import RunRecord
from crewdash.core.monitor.settings import MonitorSettings


def typical_duration(durations: Collection[float]) -> float | None:
    """The median of the completed runs' durations (None: none yet)."""
    return statistics.median(durations) if durations else None


def stall_after(durations: Collection[float], settings: MonitorSettings) -> float:
    """Seconds without progress after which a run is stalled: `stall_factor` times the usual
    run time, at least `stall_floor`; `stall_default` until enough runs were seen."""
    if len(durations) < settings.stall_min_samples:
        return settings.stall_default
    return max(settings.stall_floor, settings.stall_factor * statistics.median(durations))


def newly_stalled(record: RunRecord, quiet_for: float, after: float) -> bool:
    """Should `record`, unchanged for `quiet_for` seconds, be flagged stalled now? Never a run
    waiting for a human (that wait is theirs), never twice."""
    if record.stalled or record.state is RunState.AWAITING_INPUT:
        return False
    return quiet_for > after


__all__ = ["newly_stalled", "stall_after", "typical_duration"]
