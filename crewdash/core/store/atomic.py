"""Atomic file replacement: a reader sees the old file or the new one, never a mix, even if
the process is killed half-way (temp file in the same directory, fsync, rename, fsync dir)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

#: Test seam: called with the temp file's path after it is written and synced, before the
#: rename. Crash tests block or raise here; production code leaves it None.
before_replace: Callable[[Path], None] | None = None


def write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Replace `path` with `data`, file mode `mode`. A symlinked path writes its target, so a
    dotfile manager's link survives."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file 0600: a secret is never readable by others, not even briefly.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an advisory lock beside `path` for a read-modify-write, so the TUI and a
    `crewdash crews add` in another terminal do not lose each other's change."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, last writer wins
        yield
        return
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock_fd)  # closing releases the lock
