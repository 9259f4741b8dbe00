"""A child process on a pty, its output read continuously by a thread and timestamped as it
arrives (FIELD-NOTES, "Measuring the UI honestly").

The child always dies with the benchmark: it runs in its own session (`close()` kills the
whole process group) and asks the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG),
which also covers pytest-timeout's thread method, whose `os._exit` skips every `finally`.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROWS, COLS = 36, 120
# style escapes split the words on screen: needles are looked for in the text without them
ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][A-Z0-9]|[=>])"
)
PR_SET_PDEATHSIG = 1


def bench_env() -> dict[str, str]:
    """The children's environment: a colour terminal, and bytecode cached as an installed
    package has it (this box sets PYTHONDONTWRITEBYTECODE, which makes every launch compile
    every module it imports: ~0.2 s more for Textual alone). The cache lives under /tmp."""
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "crewdash-bench-pycache")
    return env


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class PtyApp:
    """`argv` on a 120x36 pty (TERM=xterm-256color), in `cwd` if given; `chunks` holds
    (arrival, bytes)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        master, slave = os.openpty()
        # the size is set before the child starts, so its first frame is 120x36
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        full_env = {**bench_env(), **(env or {})}
        self.chunks: list[tuple[float, bytes]] = []
        self._cond = threading.Condition()
        self._eof = False
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        os.close(slave)
        self.pid, self.fd = self.process.pid, master
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            arrived = time.perf_counter()
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.chunks.append((arrived, data))
                self._cond.notify_all()

    def mark(self) -> int:
        """Where the output stands now: `wait_for(..., since=mark)` looks only after it."""
        with self._cond:
            return len(self.chunks)

    def _arrivals(self, since: int, timeout: float, what: object) -> Iterator[tuple[float, bytes]]:
        """(arrival, bytes) of each chunk after `since`, as they come; TimeoutError(what) when
        `timeout` passes or the output ends first."""
        deadline = time.perf_counter() + timeout
        seen = since
        while True:
            with self._cond:
                while len(self.chunks) == seen and not self._eof:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise TimeoutError(what)
                    self._cond.wait(left)
                new = self.chunks[seen:]
                eof = self._eof
            seen += len(new)
            yield from new
            if (eof and seen == len(self.chunks)) or time.perf_counter() > deadline:
                raise TimeoutError(what)

    def wait_for(self, needle: bytes, *, since: int = 0, timeout: float = 30.0) -> float:
        """The arrival time (perf_counter) of the chunk that completed `needle` after `since`."""
        text = b""
        for arrived, data in self._arrivals(since, timeout, needle):
            text = text[-65536:] + data
            # an escape may be split across chunks: strip the whole window each time
            if needle in ESCAPES.sub(b"", text):
                return arrived
        raise AssertionError("unreachable")  # _arrivals ends only by raising

    def wait_for_raw(
        self, pattern: re.Pattern[bytes], *, since: int = 0, timeout: float = 30.0
    ) -> tuple[float, re.Match[bytes]]:
        """Like `wait_for`, but `pattern` is matched against the raw bytes, escapes included
        (for a change only a style shows, such as the cursor moving to another row)."""
        text = b""
        for arrived, data in self._arrivals(since, timeout, pattern.pattern):
            text = text[-4096:] + data  # a match may straddle two chunks
            match = pattern.search(text)
            if match is not None:
                return arrived, match
        raise AssertionError("unreachable")

    def write(self, data: bytes) -> float:
        sent = time.perf_counter()
        os.write(self.fd, data)
        return sent

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        """End the child's whole process group: SIGTERM, then SIGKILL after 5 s."""
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # anything the child left in its group
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self._reader.join(2)


def python_app(*args: str, env: dict[str, str] | None = None) -> PtyApp:
    """`tui_load_app.py` with `args`, run by this interpreter."""
    app = Path(__file__).with_name("tui_load_app.py")
    return PtyApp([sys.executable, str(app), *args], env=env)
