"""What the journey tests and the soak drive: the simulator as its own process on loopback, and
the real `crewdash` program on a pseudo-terminal whose screen is read through a terminal
emulator (pyte), the way a person sees it.

- `SimProcess`: `crewdash sim --scenario tests/journeys/scenario.toml` in a child process;
  `stats()` and `control()` speak its `/_sim/stats` and `/_sim/control` routes.
- `Tui`: `crewdash --config ... --data-dir ...` on a 120x36 pty (`PtyApp`, which dies with the
  test). Keys go in by name (`press("ctrl+s")`), text by `type_text`, with a person's gaps;
  `wait_for` polls the emulated screen every 20 ms until the text shows (an event, not a
  sleep), and fails at once, with the screen in the message, when the program has exited or a
  traceback appeared.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyte
import tomli_w

from tests.benchmarks.tui_pty import COLS, ESCAPES, ROWS, PtyApp, _die_with_parent

SCENARIO = Path(__file__).with_name("scenario.toml")
#: waits for the screen: generous, the machine is shared and loaded
WAIT = 20.0
POLL = 0.02

# --- keys -----------------------------------------------------------------------------------

_NAMED_KEYS: dict[str, bytes] = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "backspace": b"\x7f",
    "delete": b"\x1b[3~",
    "space": b" ",
    "f1": b"\x1bOP",
    "question_mark": b"?",
    "slash": b"/",
}


def key_bytes(key: str) -> bytes:
    """What a terminal sends for `key`: a Textual key name ("ctrl+s", "down", "f1",
    "question_mark") or one printable character."""
    if key in _NAMED_KEYS:
        return _NAMED_KEYS[key]
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():
        return bytes([ord(key[5].lower()) & 0x1F])
    if len(key) == 1:
        return key.encode("utf-8")
    raise ValueError(f"no terminal bytes known for key {key!r}")


def short_id(kickoff_id: str) -> str:
    """The 8 characters of a kickoff id the dashboard shows."""
    return kickoff_id.replace("-", "")[:8]


# --- the simulator --------------------------------------------------------------------------


class SimProcess:
    """`crewdash sim` serving `scenario` on a free loopback port, in a child process that dies
    with the test process."""

    def __init__(self, scenario: Path = SCENARIO, *, speed: float = 1.0, seed: int = 0) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crewdash",
                "sim",
                "--scenario",
                str(scenario),
                "--port",
                "0",
                "--speed",
                f"{speed:g}",
                "--seed",
                str(seed),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.url = ""
        self.crews: dict[str, tuple[str, str, str]] = {}  # name -> (url, token, kind)
        seen: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        for line in self.process.stdout:
            seen.append(line)
            if match := re.search(r" at (http://127\.0\.0\.1:\d+)", line):
                self.url = match.group(1)
            elif match := re.match(r"\s+(\S+)\s+(crew|flow)\s+(\S+)\s+token: (\S+)", line):
                name, kind, url, token = match.groups()
                self.crews[name] = (url, token, kind)
            elif line.startswith("Ctrl+C stops"):
                break
            if time.monotonic() > deadline:
                break
        if not self.url or not self.crews:
            self.close()
            raise RuntimeError("the simulator did not start:\n" + "".join(seen))
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def crew_url(self, name: str) -> str:
        return self.crews[name][0]

    def token(self, name: str) -> str:
        return self.crews[name][1]

    def stats(self) -> dict[str, Any]:
        response = self.http.get("/_sim/stats")
        response.raise_for_status()
        return response.json()

    def control(self, **body: Any) -> None:
        response = self.http.post("/_sim/control", json=body)
        response.raise_for_status()

    def kickoffs(self, crew: str, marker: str | None = None) -> list[dict[str, Any]]:
        """The kickoffs `crew` accepted, those with `marker` in an input value if given."""
        return [
            k
            for k in self.stats()["kickoffs"]
            if k["crew"] == crew
            and (marker is None or any(marker in str(v) for v in (k.get("inputs") or {}).values()))
        ]

    def wait_stats(
        self,
        check: Callable[[dict[str, Any]], Any],
        what: str,
        timeout: float = WAIT,
        *,
        tui: Tui | None = None,
    ) -> Any:
        """Poll `/_sim/stats` until `check(stats)` is truthy; return what it returned. With
        `tui`, a failure shows its screen, and a program that died fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            result = check(stats)
            if result:
                return result
            if tui is not None:
                tui.check_alive()
            if time.monotonic() > deadline:
                why = f"the simulator never saw {what}; stats: {_brief(stats)}"
                raise AssertionError(tui.describe(why) if tui is not None else why)
            time.sleep(0.05)

    def config(
        self,
        path: Path,
        names: Iterable[str],
        *,
        tokens: dict[str, str] | None = None,
        poll_min: float = 0.1,
        poll_max: float = 0.5,
    ) -> Path:
        """Write a crewdash config for the simulator's crews `names` (quick polling) at
        `path`; `tokens` replaces some crews' tokens."""
        crews: dict[str, Any] = {}
        for name in names:
            url, token, kind = self.crews[name]
            crews[name] = {
                "url": url,
                "token": (tokens or {}).get(name, token),
                "kind": kind,
                "poll_min": poll_min,
                "poll_max": poll_max,
            }
        path.write_text(tomli_w.dumps({"crews": crews, "ui": {"desktop_notify": False}}))
        path.chmod(0o600)
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.http.close()
        for sig, wait in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if self.process.stdout is not None:
            self.process.stdout.close()


def _brief(stats: dict[str, Any]) -> str:
    keep = ("requests", "kickoffs", "resumes", "stop_requests", "callbacks")
    return repr({k: stats.get(k) for k in keep})


# --- the dashboard on a pty -----------------------------------------------------------------


class AppDied(AssertionError):
    """The program exited, or printed a traceback, while a test waited on it."""


#: the `launch` fixture: `launch(crews, *, tokens=, config=, data_dir=, args=) -> Tui`
Launch = Callable[..., "Tui"]


@dataclass
class Tui:
    """The real `crewdash` on a pty; the screen as pyte emulates it."""

    config: Path
    data_dir: Path
    cwd: Path
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    args: Sequence[str] = ()

    def __post_init__(self) -> None:
        argv = [sys.executable, "-m", "crewdash", *self.args]
        argv += ["--config", str(self.config), "--data-dir", str(self.data_dir)]
        env = {"CREWDASH_DATA_DIR": str(self.data_dir), "CREWDASH_CONFIG": str(self.config)}
        self.pty = PtyApp(argv, env=env, cwd=self.cwd)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self._fed = 0
        self._tail = b""  # the escape-stripped end of the output, for words split by chunks
        self.traceback: str | None = None
        self.reported = False
        self.keys_sent = 0

    # -- reading ---------------------------------------------------------------------------

    def _feed(self) -> None:
        chunks = self.pty.chunks[self._fed :]
        self._fed += len(chunks)
        for _, data in chunks:
            self.stream.feed(data)
            plain = ESCAPES.sub(b"", self._tail[-200:] + data)
            if self.traceback is None and b"Traceback" in plain:
                self.traceback = self.output()
            self._tail = plain[-400:]

    def text(self) -> str:
        """The screen now, one line per row."""
        self._feed()
        return "\n".join(self.screen.display)

    def output(self) -> str:
        """Everything the program wrote, escapes stripped (for failure messages)."""
        raw = b"".join(data for _, data in self.pty.chunks)
        return ESCAPES.sub(b"", raw).decode("utf-8", "replace")

    @property
    def exited(self) -> bool:
        return self.pty.process.poll() is not None

    def problem(self) -> str | None:
        """Why the program cannot be used any more: it exited, or wrote a traceback."""
        self._feed()
        if self.traceback is not None:
            return "crewdash printed a traceback"
        if self.exited:
            return f"crewdash exited with {self.pty.process.returncode}"
        return None

    def describe(self, why: str) -> str:
        text = self.text()
        message = f"{why}\n--- screen ---\n{text}\n--- end of screen ---"
        if self.problem() is not None:
            message += "\n--- output (escapes stripped, last 6000 chars) ---\n"
            message += _readable(self.output())[-6000:]
        for report in sorted((self.data_dir / "crashes").glob("crash-*.txt")):
            # the crash report crewdash wrote (pytest's temporary folders do not last)
            message += f"\n--- {report.name} ---\n" + report.read_text(errors="replace")[-6000:]
        return message

    def check_alive(self) -> None:
        problem = self.problem()
        if problem is not None:
            self.reported = True  # the test fails with it: the fixture need not say it again
            raise AppDied(self.describe(problem))

    def wait_until(self, predicate: Callable[[str], Any], what: str, timeout: float = WAIT) -> Any:
        """Poll the screen every 20 ms until `predicate(screen text)` is truthy; return it.
        Fails with the screen at once if the program dies, else after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            result = predicate(text)
            if result:
                return result
            self.check_alive()
            if time.monotonic() > deadline:
                raise AssertionError(self.describe(f"timed out after {timeout:g} s waiting {what}"))
            time.sleep(POLL)

    def wait_for(self, *needles: str, timeout: float = WAIT) -> str:
        """Wait until every one of `needles` is on the screen; return the screen."""
        self.wait_until(lambda text: all(n in text for n in needles), f"for {needles!r}", timeout)
        return self.text()

    def wait_gone(self, *needles: str, timeout: float = WAIT) -> str:
        """Wait until none of `needles` is on the screen; return the screen."""
        self.wait_until(
            lambda text: not any(n in text for n in needles), f"for {needles!r} to go", timeout
        )
        return self.text()

    def line_with(self, needle: str) -> str | None:
        """The first screen line holding `needle`."""
        return next((line for line in self.text().splitlines() if needle in line), None)

    def hold(self, seconds: float) -> None:
        """Stay idle like a person reading the screen (past the app's 1-s ticks), watching
        that the program stays alive meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            time.sleep(POLL)
        self.check_alive()

    # -- keys ------------------------------------------------------------------------------

    def press(self, *keys: str, gap: tuple[float, float] = (0.05, 0.15)) -> None:
        """Each key in turn, `gap` seconds apart (a person: 50-150 ms)."""
        for i, key in enumerate(keys):
            if i:
                time.sleep(self.rng.uniform(*gap))
            self.check_alive()
            self.pty.write(key_bytes(key))
            self.keys_sent += 1
        time.sleep(self.rng.uniform(*gap))

    def type_text(self, text: str, gap: tuple[float, float] = (0.02, 0.07)) -> None:
        """`text` typed a character at a time."""
        self.press(*text, gap=gap)

    # -- leaving ---------------------------------------------------------------------------

    def quit(self, timeout: float = WAIT) -> int:
        """Ctrl+Q, then wait for the program to end; its exit code. Fails if it wrote
        anything once it had left the alternate screen (a log line, a traceback)."""
        self.check_alive()
        self.pty.write(key_bytes("ctrl+q"))
        try:
            code = self.pty.process.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(self.describe("crewdash did not exit after Ctrl+Q")) from exc
        self.pty._reader.join(5)  # the last output, up to the end of the pty
        self._feed()
        left = self.after_exit()
        assert not left, f"crewdash wrote this on its way out (exit code {code}):\n{left}"
        return code

    def after_exit(self) -> str:
        """What the program wrote after it left the alternate screen, escapes stripped."""
        raw = b"".join(data for _, data in self.pty.chunks)
        _, left, tail = raw.rpartition(b"\x1b[?1049l")
        text = ESCAPES.sub(b"", tail).decode("utf-8", "replace") if left else ""
        return _readable(text).strip()

    def close(self) -> None:
        self.pty.close()
        self._feed()


def _readable(text: str) -> str:
    """Output with the carriage returns and other controls Textual leaves, readable."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text.replace("\r\n", "\n"))
