"""The audit trail on the command line: aligned table lines, JSON objects, CSV text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from crewdash.commands.support.time import local_clock
from crewdash.core.audit import AuditEntry
from crewdash.core.runs.export import iso

CSV_COLUMNS = (
    "at",
    "kind",
    "user",
    "host",
    "channel",
    "crew",
    "local_id",
    "kickoff_id",
    "what",
    "detail",
    "outcome",
    "feedback",
    "server_answer",
    "request_id",
)

_HEADERS = ("WHEN", "WHO", "CHANNEL", "CREW", "RUN", "WHAT", "SERVER ANSWER")
_CAPS = (19, 28, 14, 16, 8, 60, 60)  # the widest a column gets; longer text is cut with …


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """One `--json` line: the entry's fields, its time also as ISO text."""
    return {"type": "audit", **entry.to_json(), "at_iso": iso(entry.at)}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_lines(entries: Sequence[AuditEntry]) -> list[str]:
    """A header and one aligned line per entry (no line when there is none)."""
    if not entries:
        return []
    rows = [
        (
            local_clock(e.at),
            e.who,
            e.channel or "-",
            e.crew or "-",
            e.run_short or "-",
            e.summary(_CAPS[5]),
            e.server_answer or "-",
        )
        for e in entries
    ]
    widths = [
        min(cap, max(len(header), *(len(r[i]) for r in rows)))
        for i, (header, cap) in enumerate(zip(_HEADERS, _CAPS, strict=True))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(_cut(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(_HEADERS), *(line(r) for r in rows)]


def csv_text(entries: Sequence[AuditEntry]) -> str:
    """CSV with a header row; the csv module quotes commas, quotes and newlines (feedback
    keeps its own lines, whole)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        row = entry.to_json()
        row["at"] = iso(entry.at)
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
    return buffer.getvalue()
