"""Who owns a row being sent: an OS lock held for the life of the process.

A process that writes kickoff intents takes an exclusive `flock` on a file of its own,
`.<store file>.owners/<owner id>.lock` beside the store, and keeps it until it exits. The
kernel drops the lock when the process dies, however it dies (SIGKILL included), so "is the
owner of this row alive?" is answered by trying to take the lock: if it can be taken, or the
file is gone, the owner is gone. No heartbeat to miss, no process id that a new process may
reuse (the id carries the pid and the process's start time only so a person can read it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - no flock: ownership degrades to "alive while ours"

    def _lock(fd: int) -> None:
        """Nothing to take without flock."""

    def _held_elsewhere(fd: int) -> bool:
        """Without flock nobody can tell: the owner counts as alive."""
        return True

else:
    import fcntl

    def _lock(fd: int) -> None:
        """Take the exclusive lock on `fd` without waiting (BlockingIOError when held)."""
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _held_elsewhere(fd: int) -> bool:
        """Does another process hold the lock on `fd`? When not, it is ours now."""
        try:
            _lock(fd)
        except BlockingIOError:
            return True
        return False


def owners_dir(store_path: Path) -> Path:
    store_path = Path(store_path)
    return store_path.parent / f".{store_path.name}.owners"


def _process_start() -> str:
    """The process's start time in clock ticks since boot (Linux), else the time now."""
    try:
        stat = Path(f"/proc/{os.getpid()}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return str(int(time.time()))


class Lease:
    """This process's ownership lock; `id` is what rows being sent carry in `owner`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.id = f"{os.getpid()}-{_process_start()}-{uuid.uuid4().hex[:8]}"
        self._fd: int | None = None

    def acquire(self) -> str:
        """Take the lock (once); returns the owner id. Raises OSError if the directory
        cannot be written."""
        if self._fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / f"{self.id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            _lock(fd)
            self._fd = fd
        return self.id

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.directory / f"{self.id}.lock").unlink()
            os.close(self._fd)
            self._fd = None


def owner_alive(directory: Path, owner: str, *, own: str | None = None) -> bool:
    """Is the process that holds `owner`'s lock still running? Our own id is alive. A dead
    owner's lock file is removed."""
    if own is not None and owner == own:
        return True
    if "/" in owner or owner in ("", ".", ".."):
        return False
    path = directory / f"{owner}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell (permissions): never take a row from a possibly live owner
    try:
        if _held_elsewhere(fd):
            return True
        with contextlib.suppress(OSError):
            path.unlink()
        return False
    finally:
        os.close(fd)
