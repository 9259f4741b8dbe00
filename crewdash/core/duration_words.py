"""A duration in the words every screen and command shows: '42s', '3m 05s', '1h 02m'."""

from __future__ import annotations


def format_duration(seconds: float | None) -> str:
    """'42s', '3m 05s', '1h 02m', '2d 03h'; '—' when unknown."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h:02d}h"
