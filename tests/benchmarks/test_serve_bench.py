"""`crewdash serve` in headless Chromium: the time from page load to the dashboard's first
frame, and the memory each browser session costs the server (one dashboard process per
visitor). Printed for the README's table; nothing is asserted about speed.

Run: `uv run pytest tests/benchmarks/test_serve_bench.py -m benchmark -s`.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from tests.browser.harness import (
    DashboardPage,
    ServeProcess,
    chromium,
    crews_shown,
    rss_kib,
)
from tests.journeys.harness import SimProcess

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(600)]
CREWS = ["basic", "review", "flow", "slow"]
SESSIONS = 5


def test_serve_first_frame_and_memory_per_session(tmp_path: Path) -> None:
    sim = SimProcess()
    try:
        config = sim.config(tmp_path / "config.toml", CREWS)
        server = ServeProcess(config, tmp_path / "data")
        try:
            serve_rss = rss_kib(server.process.pid)
            first_frame, crews_on_screen, per_session = [], [], []
            with chromium() as browser:
                pages = []
                for _ in range(SESSIONS):
                    known = set(server.sessions())
                    page = DashboardPage(browser, server.url)
                    page.wait_until(crews_shown(CREWS), "the crews")
                    shown = time.monotonic()
                    assert page.first_frame_at is not None
                    first_frame.append(page.first_frame_at - page.opened_at)
                    crews_on_screen.append(shown - page.opened_at)
                    new = [pid for pid in server.sessions() if pid not in known]
                    assert len(new) == 1, new
                    page.wait_for("inbox")  # the engine started: its polling is on
                    page.page.wait_for_timeout(2000)  # a settled session, not one starting
                    per_session.append(rss_kib(new[0]))
                    pages.append(page)
                serve_after = rss_kib(server.process.pid)
                for page in pages:
                    page.close()
        finally:
            server.close()
    finally:
        sim.close()

    def ms(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:.0f} ms, "
            f"min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}"
        )

    print(f"\nserve: {SESSIONS} sessions, one after another, each in a fresh browser context")
    print(f"  page load -> first frame (first terminal bytes): {ms(first_frame)}")
    print(f"  page load -> crews on screen: {ms(crews_on_screen)}")
    print(
        f"  RSS per session (its dashboard process): median "
        f"{statistics.median(per_session) / 1024:.1f} MB, "
        f"min {min(per_session) / 1024:.1f}, max {max(per_session) / 1024:.1f}"
    )
    print(
        f"  crewdash serve itself: {serve_rss / 1024:.1f} MB before, "
        f"{serve_after / 1024:.1f} MB with {SESSIONS} sessions"
    )
