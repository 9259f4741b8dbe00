"""Times on the command line: `--since 2h` or an ISO date, and local clock text for output
(ISO text is `crewdash.core.runs.export.iso`)."""

from __future__ import annotations

import re
from datetime import datetime

from crewdash.commands.support.errors import CliError

_AGO = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: float) -> float:
    """`90m`, `2h`, `3d`, `1w` (ago), or an ISO date/datetime (local time unless it says)."""
    match = _AGO.fullmatch(text.strip())
    if match:
        return now - float(match["n"]) * _UNIT_SECONDS[match["unit"].lower()]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"--since expects a duration such as 30m, 2h, 3d or an ISO date such as "
            f"2025-01-31 or 2025-01-31T08:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means the operator's local time
    return moment.timestamp()


def local_clock(ts: float | None) -> str:
    """Unix seconds as local `YYYY-MM-DD HH:MM:SS`, for human output."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
