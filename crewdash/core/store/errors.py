"""The run store's errors: what a caller of `RunStore` may catch (re-exported by
`crewdash.core.store.database`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewdash.core.models import KickoffPhase, RunRecord


class StoreError(RuntimeError):
    """A store operation that cannot be done (unknown run, closed store)."""


class StoreOpenError(StoreError):
    """The store cannot be opened: `path` and what to do are in the message."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class PhaseConflict(StoreError):
    """A compare-and-set found the run in another phase (or another process's hands)."""

    def __init__(self, current: RunRecord, expected: tuple[KickoffPhase, ...]) -> None:
        wanted = " or ".join(str(p) for p in expected)
        super().__init__(
            f"run {current.local_id} is {current.phase}"
            + (f" (sent by process {current.owner.split('-')[0]})" if current.owner else "")
            + f", not {wanted}"
        )
        self.current = current
        self.expected = expected


def open_error(path: Path, exc: sqlite3.Error) -> StoreOpenError:
    """The StoreOpenError for an SQLite error met while opening `path`: what it means and
    what to do, in words."""
    text = str(exc)
    low = text.lower()
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        what = "not a crewdash run store (not an SQLite database, or damaged)"
        todo = "move it away or choose another --data-dir"
    elif "readonly" in low or "read-only" in low or "unable to open" in low:
        what = "the run store cannot be written (a read-only file or directory)"
        todo = "make it and its directory writable, or choose another --data-dir"
    elif "locked" in low or "busy" in low:
        what = "the run store is locked by another process for too long"
        todo = "try again in a moment"
    else:
        what = f"the run store cannot be opened ({text})"
        todo = "check the file, or choose another --data-dir"
    return StoreOpenError(f"{path}: {what}; {todo}", path)
