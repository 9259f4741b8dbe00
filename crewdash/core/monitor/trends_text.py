"""Trends in words and block characters, the same for the command line and the dashboard:
sparklines (▁▂▃▄▅▆▇█), durations, rates, and a legend in words (min, max, latest) that a
screen reader can say."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from crewdash.core.duration_words import format_duration
from crewdash.core.monitor.trends import PRECISION, TrendPoint

BLOCKS = "▁▂▃▄▅▆▇█"
NO_DATA = " "  # a bucket with nothing to show (no finished run for a success rate, say)


def sparkline(values: Sequence[float | None], top: float | None = None) -> str:
    """One block per value, scaled to `top` (default: the largest): ▁ for zero (or the
    smallest), █ for the top; any value above zero shows above ▁; NO_DATA for None."""
    known = [v for v in values if v is not None]
    peak = top if top is not None else max(known, default=0.0)
    out = []
    for value in values:
        if value is None:
            out.append(NO_DATA)
        elif peak <= 0 or value <= 0:
            out.append(BLOCKS[0])
        else:
            step = math.ceil(min(value, peak) / peak * (len(BLOCKS) - 1))
            out.append(BLOCKS[max(1, step)])
    return "".join(out)


def duration_text(seconds: float | None) -> str:
    """'0.4s', '4.2s', then as everywhere else ('42s', '3m 05s', '1h 02m'); '—' when unknown."""
    if seconds is not None and seconds < 10:
        return f"{max(0.0, seconds):.1f}s"
    return format_duration(seconds)


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def count_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def bucket_words(seconds: int) -> str:
    """'hour', '6 hours', 'day', '2 days', '7 days'."""
    hours = seconds // 3600
    if hours % 24 == 0:
        return "day" if hours == 24 else f"{hours // 24} days"
    return "hour" if hours == 1 else f"{hours} hours"


def clock(ts: float) -> str:
    """Local 'Mon DD HH:MM' of a bucket's start."""
    return time.strftime("%b %d %H:%M", time.localtime(ts))


# What each series of a CrewTrends is: its name, how to read it off a point, how to say it.
Series = tuple[str, Callable[[TrendPoint], float | None], Callable[[float | None], str]]
SERIES: tuple[Series, ...] = (
    ("runs", lambda p: float(p.runs), count_text),
    ("success rate", lambda p: p.success_rate, rate_text),
    ("duration p50", lambda p: p.duration_p50, duration_text),
    ("duration p95", lambda p: p.duration_p95, duration_text),
    ("wait p50", lambda p: p.wait_p50, duration_text),
    ("wait p95", lambda p: p.wait_p95, duration_text),
)


def series_words(
    name: str, points: Sequence[TrendPoint], values: Sequence[float | None], say: Callable[..., str]
) -> str:
    """'runs per hour: min 0, max 12 (Dec 04 14:00), latest 3' — or 'no data'; without the
    name and colon when `name` is empty."""
    head = f"{name}: " if name else ""
    known = [(v, p.start) for v, p in zip(values, points, strict=True) if v is not None]
    if not known:
        return f"{head}no data"
    low = min(v for v, _ in known)
    high, at = max(known, key=lambda pair: pair[0])
    latest, latest_at = known[-1]
    tail = "" if latest_at == points[-1].start else f" ({clock(latest_at)})"
    return f"{head}min {say(low)}, max {say(high)} ({clock(at)}), latest {say(latest)}{tail}"


#: how to read the sparklines and figures, in words (after "one block per hour, ", say)
LEGEND = (
    "oldest left, ▁ lowest … █ highest, blank = no data; runs = runs started; success = "
    "completed of completed + failed (stopped runs not counted); duration = completed runs; "
    "wait = human-input request to its answer; " + PRECISION
)
