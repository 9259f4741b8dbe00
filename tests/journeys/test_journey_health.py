"""Journeys about a crew's health: a wrong token, and a deployment that goes offline and comes
back while a run is going. The crew list must say what is true, and the simulator's record
must show crewdash neither hammered a rejected token nor started a run twice."""

from __future__ import annotations

from tests.journeys.harness import Launch, SimProcess
from tests.journeys.steps import form_ready, run_row, start_run


def _crew_line(text: str, crew: str) -> str:
    """The crew list's line of `crew` (its health mark, name, kind, counts)."""
    for line in text.splitlines():
        cells = line.split()
        if len(cells) >= 2 and cells[1] == crew:
            return line
    return ""


def test_wrong_token_is_shown_as_rejected(launch: Launch, sim: SimProcess) -> None:
    """A crew configured with a token the deployment refuses shows "token rejected" (never
    "ok") while the other crew is fine; the deployment saw only 401s for it."""
    before = sim.stats()["requests"].get("typed", {})
    tui = launch(["typed", "basic"], tokens={"typed": "not-the-token"})
    tui.wait_for("token rejected")
    text = tui.wait_until(
        lambda t: "●" in _crew_line(t, "basic") and t, "for the other crew to be ok"
    )
    line = _crew_line(text, "typed")
    assert "⚿" in line and "●" not in line, tui.describe(f"typed shows {line!r}")
    tui.hold(1.5)  # the health checks that follow must not turn it "ok"
    line = _crew_line(tui.text(), "typed")
    assert "⚿" in line and "●" not in line, tui.describe(f"typed shows {line!r}")
    after = sim.stats()["requests"].get("typed", {})
    statuses = {
        status
        for route, counts in after.items()
        for status, n in counts.items()
        if n > before.get(route, {}).get(status, 0)
    }
    assert statuses == {"401"}, after


def test_offline_crew_then_back(launch: Launch, sim: SimProcess, marker: str) -> None:
    """The deployment answers 503 pages while a run goes on: the crew shows offline and the
    run keeps its last known state, without crewdash hammering the deployment. Once it is
    back, crewdash started again (its circuit breaker would wait out a 30-s cooldown: too
    long for CI) finds the run, follows it to completion with the crew ok, and the run was
    started once."""
    tui = launch(["fragile"])
    form_ready(tui, "fragile", "topic")
    kickoff_id = start_run(tui, sim, "fragile", marker)["kickoff_id"]
    run_row(tui, kickoff_id, "running")
    sim.control(crew="fragile", offline=True)
    try:
        # offline needs 5 failed requests in a row and 30 s without a success (monitor.py):
        # a deployment that drops a few answers is flaky, not offline
        tui.wait_until(
            lambda t: "○" in _crew_line(t, "fragile"), "for the crew to show offline", timeout=60
        )
        tui.wait_for("offline")
        run_row(tui, kickoff_id, "running")  # the last known state, not an error
        polled = sim.stats()["requests"]["fragile"]
        assert any("503" in counts for counts in polled.values()), polled
        before = sim.stats()["requests_total"]
        tui.hold(2.0)
        sent = sim.stats()["requests_total"] - before
        assert sent <= 10, f"{sent} requests in 2 s to a deployment that is down"
    finally:
        sim.control(crew="fragile", offline=False)
    assert tui.quit() == 0
    again = launch(config=tui.config, data_dir=tui.data_dir)
    again.wait_until(lambda t: "●" in _crew_line(t, "fragile"), "for the crew to be ok again")
    run_row(again, kickoff_id, "completed")
    assert len(sim.kickoffs("fragile", marker)) == 1
