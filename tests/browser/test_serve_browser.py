"""`crewdash serve` in headless Chromium, on the simulator: the dashboard renders in the page;
with --allow-actions a run is started and its human-input request answered through the page
(the simulator records both, and the audit says "browser"); without it the same keys change
nothing on the server."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crewdash.core.store.database import RunStore, store_path
from tests.browser.harness import DashboardPage, ServeProcess, crews_shown, mutating_requests
from tests.journeys.harness import SimProcess, short_id
from tests.journeys.steps import modal_shown

CREWS = ["review", "basic"]
pytestmark = pytest.mark.timeout(240)


def _resumes(sim: SimProcess, kickoff_id: str) -> list[dict[str, Any]]:
    return [r for r in sim.stats()["resumes"] if r["body"].get("execution_id") == kickoff_id]


def _start_run(page: DashboardPage, sim: SimProcess, marker: str) -> str:
    """`n`, the marker into the review crew's first field, Ctrl+S: its kickoff id."""
    page.wait_for("New run of review")
    page.focus()
    assert "New run" in page.wait_for("^q Quit").splitlines()[-1]  # the Footer offers it
    page.press("n")
    page.type(marker)
    page.wait_for(marker)
    page.press("Control+s")
    kickoffs = sim.wait_stats(lambda _: sim.kickoffs("review", marker), "the page's kickoff")
    assert len(kickoffs) == 1, kickoffs
    return str(kickoffs[0]["kickoff_id"])


def _open_request(page: DashboardPage, kickoff_id: str) -> None:
    """The run's human-input modal: on its own, else `i` once its row says it waits."""
    sid = short_id(kickoff_id)
    page.wait_until(
        lambda t: any(sid in line and "input" in line for line in t.splitlines()),
        f"the row of {sid} waiting for input",
    )
    try:
        page.wait_for("Approve the draft?", timeout=3)
    except AssertionError:
        page.press("i")
    page.wait_for("Approve the draft?", sid)
    # a modal that opened by itself takes no keys for its first moments; its Footer shows
    # Approve once it does (human_input.py's check_action)
    page.wait_for("^s Approve")


def test_actions_through_the_page(
    sim: SimProcess, browser: Any, tmp_path: Path, marker: str
) -> None:
    config = sim.config(tmp_path / "config.toml", CREWS)
    server = ServeProcess(config, tmp_path / "data", "--allow-actions")
    try:
        page = DashboardPage(browser, server.url)
        assert page.response is not None and page.response.status == 200
        page.wait_until(crews_shown(CREWS), "the crew names")
        assert "read-only" not in page.text()
        kickoff_id = _start_run(page, sim, marker)
        _open_request(page, kickoff_id)
        page.type(f"fine {marker}")
        page.wait_for(f"fine {marker}")
        page.press("Control+s")
        page.wait_for("Approve task review")
        page.press("y")
        answered = sim.wait_stats(lambda _: _resumes(sim, kickoff_id), "the page's answer")
        assert [(r["body"]["is_approve"], r["body"]["task_id"]) for r in answered] == [
            (True, "review")
        ], answered
        assert answered[0]["body"]["human_feedback"] == f"fine {marker}"
        page.wait_for("✓ Approved")
        page.close()
    finally:
        server.close()
    with sqlite3.connect(store_path(tmp_path / "data")) as db:
        # the route it went by, and the front end it came from
        rows = db.execute("SELECT channel, origin FROM decisions").fetchall()
    assert rows == [("resume", "browser")], rows
    with RunStore.open(store_path(tmp_path / "data")) as store:  # what `crewdash audit` lists
        trail = sorted((e.what, e.channel) for e in store.audit())
    assert trail == [("answer", "browser"), ("kickoff", "browser")], trail


def test_read_only_page_changes_nothing_on_the_server(
    sim: SimProcess, browser: Any, tmp_path: Path, marker: str
) -> None:
    """A run waits for an answer (started beside the server, same data dir); the read-only
    page shows it and its request, and every mutating key of the dashboard sends nothing."""
    config = sim.config(tmp_path / "config.toml", CREWS)
    data_dir = tmp_path / "data"
    actions = ServeProcess(config, data_dir, "--allow-actions")
    try:
        writer = DashboardPage(browser, actions.url)
        kickoff_id = _start_run(writer, sim, marker)
        _open_request(writer, kickoff_id)
        writer.press("Escape")
        writer.close()
    finally:
        actions.close()
    before = mutating_requests(sim.stats())
    server = ServeProcess(config, data_dir)  # read-only: the default
    try:
        page = DashboardPage(browser, server.url)
        page.wait_until(crews_shown(CREWS), "the crew names")
        sid = short_id(kickoff_id)
        page.wait_for("read-only", sid)
        page.focus()
        footer = page.wait_for("^q Quit").splitlines()[-1]  # the app has the focus: keys shown
        assert "New run" not in footer and "Answer" not in footer, footer
        # every key that changes something somewhere, on the main screen and the run's detail
        for keys in (
            ["n", *"1234", "Control+s"],
            ["i", "Control+s", "y", "Enter"],
            ["r", "s", "y", "Enter", "u", "Enter"],
            ["Enter", "a", "e", "s", "y", "i", "Control+s", "y", "u", "w", "Escape"],
            ["I", "Enter", "Control+s", "y", "Escape"],
        ):
            page.press(*keys)
        page.press("?")  # help: shown once every key before it was handled
        page.wait_for("crewdash help")
        assert not modal_shown(page.text()), page.text()  # no human-input modal opened
        assert mutating_requests(sim.stats()) == before
        assert _resumes(sim, kickoff_id) == []
        page.close()
    finally:
        server.close()
    assert not sim.kickoffs("review", marker + "x")


def test_demo_serve_shows_the_demo_in_the_page(browser: Any) -> None:
    """`crewdash demo --serve`: the no-account path, in a browser (read-only by default)."""
    server = ServeProcess(None, None)
    try:
        page = DashboardPage(browser, server.url)
        page.wait_until(
            crews_shown(["Market Research Crew", "Content Review Crew"]), "the demo's crews"
        )
        page.wait_for("read-only")
        page.close()
    finally:
        assert server.close() == 0, server.output()
