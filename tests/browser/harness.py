"""The browser tests' pieces: `crewdash serve` in a child process, and a dashboard page in
headless Chromium (the system's, driven by Playwright) whose screen is read as the browser
received it.

- `ServeProcess(config, data_dir, *args)`: `crewdash serve --port 0 ...`; `url` (where it
  listens), `token` (when it made one up), `output()` (what it printed and logged),
  `sessions()` (the pids of the visitors' dashboards). `close()` stops it with SIGINT, then
  its whole process group.
- `chromium()`: Playwright's Chromium launched from CHROMIUM (/usr/bin/chromium, installed by
  `.ci/run` when missing). A missing browser fails the test: it is never skipped.
- `DashboardPage(browser, url)`: one visitor. Every frame the page's websocket receives from
  the server is fed to a pyte screen of the terminal's size (the size the page asked for), so
  `text()` is what the page draws; `press()` / `type()` go to the terminal's input.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyte

from tests.benchmarks.tui_pty import _die_with_parent

CHROMIUM = os.environ.get("CREWDASH_CHROMIUM", "/usr/bin/chromium")
#: Chromium run as root, headless, and never trying the network beyond the test's server
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 30.0  # generous: the machine is shared, and each visitor starts a Python process


class ServeProcess:
    def __init__(
        self,
        config: Path | None,
        data_dir: Path | None,
        *args: str,
        env: dict[str, str] | None = None,
    ) -> None:
        """`crewdash --config C --data-dir D serve --port 0 ARGS`; without a config,
        `crewdash demo --serve --port 0 ARGS`."""
        argv = [sys.executable, "-m", "crewdash"]
        if config is None or data_dir is None:
            argv += ["demo", "--serve", "--port", "0", *args]
        else:
            argv += ["--config", str(config), "--data-dir", str(data_dir)]
            argv += ["serve", "--port", "0", *args]
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env={**os.environ, **(env or {})},
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""
        self.port = 0
        self.token: str | None = None
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and self.process.poll() is None:
            text = self.output()
            if "Ctrl+C stops serving" in text:
                break
            time.sleep(0.02)
        text = self.output()
        match = re.search(r"listening on \S+:(\d+) ", text)
        if match is None or "Ctrl+C stops serving" not in text:
            self.close()
            raise RuntimeError(f"crewdash serve did not start:\n{self.output()}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"
        if token := re.search(r"\?token=(\S+)", text):
            self.token = token.group(1)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)

    def output(self) -> str:
        return "".join(self._lines)

    def sessions(self) -> list[int]:
        """The pids of the dashboards started for visitors (children of the server)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    found.append(int(entry.name))
        return sorted(found)

    def close(self) -> int | None:
        for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, sig)
            try:
                self.process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a dashboard left behind
        self._reader.join(5)
        return self.process.returncode


def rss_kib(pid: int) -> int:
    """The resident memory of a process, KiB (/proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: the browser tests need Chromium "
        "(`.ci/run` installs it: apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _abort(route: Any) -> None:
    route.abort()


class DashboardPage:
    """One visitor's page (see the module docstring)."""

    def __init__(self, browser: Any, url: str, *, size: tuple[int, int] = (1600, 1000)) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        # nothing beyond the test's server: the page's web font would wait on the network
        self.context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/])"), _abort)
        self.page = self.context.new_page()
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        self.frames = 0
        self.first_frame_at: float | None = None
        self.page.on("websocket", self._websocket)
        self.opened_at = time.monotonic()
        self.response = self.page.goto(url, wait_until="domcontentloaded")

    def _websocket(self, ws: Any) -> None:
        query = parse_qs(urlsplit(ws.url).query)
        cols, rows = int(query.get("width", ["80"])[0]), int(query.get("height", ["24"])[0])
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload: Any) -> None:
        if isinstance(payload, bytes) and self.stream is not None:
            self.stream.feed(payload)
            self.frames += 1
            if self.first_frame_at is None:
                self.first_frame_at = time.monotonic()

    def _sent(self, payload: Any) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            kind, data = json.loads(payload)
            if kind == "resize" and self.screen is not None:
                self.screen.resize(int(data["height"]), int(data["width"]))

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen is not None else ""

    def wait_until(self, check: Callable[[str], Any], what: str, timeout: float = WAIT) -> Any:
        """Let the page run (its events come in meanwhile) until `check(text())` is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            result = check(self.text())
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed {what}; it shows:\n{self.text()}")
            self.page.wait_for_timeout(30)

    def wait_for(self, *needles: str, timeout: float = WAIT) -> str:
        return str(
            self.wait_until(
                lambda t: t if all(n in t for n in needles) else None, repr(needles), timeout
            )
        )

    def focus(self) -> None:
        """The terminal's input (xterm's hidden textarea) takes the keys."""
        self.page.locator("textarea.xterm-helper-textarea").focus()

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=20)

    def close(self) -> None:
        self.context.close()


def mutating_requests(stats: dict[str, Any]) -> dict[str, int]:
    """Every request the simulator saw that could change something (anything but GET), by
    crew and route."""
    return {
        f"{crew} {route}": sum(by_status.values())
        for crew, routes in stats["requests"].items()
        if crew != "_sim"
        for route, by_status in routes.items()
        if not route.startswith("GET ")
    }


def crews_shown(names: Sequence[str]) -> Callable[[str], bool]:
    return lambda text: all(name in text for name in names)
