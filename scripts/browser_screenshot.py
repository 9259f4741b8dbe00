"""Regenerate screenshots/browser.png (shown in the README): `crewdash serve` (read-only) on
the demo scenario of the simulator, with a few runs started beside it, in headless Chromium:
`uv run python scripts/browser_screenshot.py`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import DashboardPage, ServeProcess, chromium  # noqa: E402
from tests.journeys.harness import SimProcess  # noqa: E402

RUNS = [
    ("research", ["topic=AI agents in logistics", "audience=CTOs"]),
    ("content-review", ["brief=Spring launch post", "channel=LinkedIn"]),
    ("expense-approval", ["employee=Ada", "amount=420", "purpose=Conference"]),
    ("quarterly-forecast", ["quarter=Q3", "region=EMEA"]),
    ("research", ["topic=Battery recycling", "audience=engineers"]),
]


def main() -> None:
    sim = SimProcess(Path("demo"), speed=4)  # the built-in demo scenario, by name
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = sim.config(Path(tmp) / "config.toml", list(sim.crews))
            data = Path(tmp) / "data"
            for crew, values in RUNS:
                argv = [sys.executable, "-m", "crewdash", "--config", str(config)]
                argv += ["--data-dir", str(data), "kickoff", crew]
                argv += [arg for value in values for arg in ("-i", value)]
                subprocess.run(argv, check=True, capture_output=True, timeout=60)
            server = ServeProcess(config, data)
            with chromium() as browser:
                page = DashboardPage(browser, server.url, size=(1500, 860))
                page.wait_for("read-only", "completed", "input")
                page.focus()  # the app has the focus: its Footer shows the keys
                page.wait_for("Quit")
                page.page.wait_for_timeout(500)  # the page's fade-in
                out = ROOT / "screenshots" / "browser.png"
                page.page.screenshot(path=str(out))
                page.close()
                print(f"wrote {out.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.close()
        sim.close()


if __name__ == "__main__":
    main()
