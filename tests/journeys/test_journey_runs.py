"""Journeys with runs: a kickoff per input shape, a run's detail, stopping a run, and leaving
and starting crewdash again on the same data dir. Each drives the real `crewdash` on a pty
(keys 50-150 ms apart) and checks the screen and what the simulator received."""

from __future__ import annotations

import random
import re

from tests.journeys.harness import Launch, SimProcess, short_id
from tests.journeys.steps import form_ready, run_row, start_run


def test_kickoff_names_only_inputs(launch: Launch, sim: SimProcess, marker: str) -> None:
    """`{"inputs": ["topic"]}`: one text field; the typed text is what the server gets, once."""
    tui = launch(["basic", "typed"])
    form_ready(tui, "basic", "topic")
    kickoff = start_run(tui, sim, "basic", marker)
    assert kickoff["inputs"] == {"topic": marker}
    run_row(tui, kickoff["kickoff_id"], "completed", "2/2")
    tui.hold(1.2)  # past a tick: still one kickoff, the row stays completed
    assert len(sim.kickoffs("basic", marker)) == 1
    run_row(tui, kickoff["kickoff_id"], "completed")


def test_kickoff_typed_inputs(launch: Launch, sim: SimProcess) -> None:
    """Typed inputs (integer, number, optional boolean): values travel with their types, and a
    wrong value is refused on screen before anything is sent."""
    count = random.randint(10_000, 99_999)  # finds this test's kickoff in the shared stats
    tui = launch(["typed", "basic"])
    form_ready(tui, "typed", "count", "ratio", "whole number")
    tui.press("n")
    tui.type_text("lots")  # not a whole number
    tui.press("tab")
    tui.type_text("0.25")
    tui.press("ctrl+s")
    tui.wait_for("count")
    tui.wait_until(
        lambda text: "whole number" in text and "attention" in text,
        "for the form to refuse 'lots' for the integer input",
    )
    assert not [k for k in sim.kickoffs("typed") if k["inputs"].get("ratio") == 0.25], (
        "a refused form sent a kickoff"
    )
    tui.press("n")  # back to the first field, to put it right
    tui.press("end", *["backspace"] * 6)
    tui.type_text(str(count))
    tui.press("ctrl+s")
    kickoffs = sim.wait_stats(
        lambda _: [k for k in sim.kickoffs("typed") if k["inputs"].get("count") == count],
        f"a kickoff of typed with count {count}",
    )
    assert len(kickoffs) == 1, kickoffs
    inputs = kickoffs[0]["inputs"]
    assert type(inputs["count"]) is int and inputs["count"] == count, inputs
    assert isinstance(inputs["ratio"], float) and inputs["ratio"] == 0.25, inputs
    assert inputs.get("flag") in (None, False), inputs
    run_row(tui, kickoffs[0]["kickoff_id"], "completed")


def test_kickoff_required_inputs(launch: Launch, sim: SimProcess, marker: str) -> None:
    """`inputs` + `required_inputs`: Ctrl+S with the required field empty is refused on
    screen and sends nothing; filled, the run starts and goes on to ask for input."""
    tui = launch(["review", "basic"])
    form_ready(tui, "review", "brief", "tone")
    tui.press("n")
    tui.press("ctrl+s")
    tui.wait_for("brief is required")
    tui.hold(0.5)
    assert not [k for k in sim.kickoffs("review") if not k["inputs"].get("brief")], (
        "a kickoff went out without its required input"
    )
    # the focus stays in the field that needs a value
    kickoff = start_run(tui, sim, "review", marker, focus=False)
    assert kickoff["inputs"].get("brief") == marker
    assert kickoff["inputs"].get("tone") in (None, ""), kickoff["inputs"]
    # the run pauses for a person: the dashboard says so (row, or the request itself)
    sid = short_id(kickoff["kickoff_id"])
    tui.wait_until(
        lambda text: "inbox 1" in text and sid in text, f"for run {sid} to wait for input"
    )


def test_open_run_detail(launch: Launch, sim: SimProcess, marker: str) -> None:
    """Enter on a finished run opens its detail: state, kickoff id, the output with the
    inputs in it; Esc goes back to the runs."""
    tui = launch(["basic"])
    form_ready(tui, "basic")
    kickoff = start_run(tui, sim, "basic", marker)
    kickoff_id = kickoff["kickoff_id"]
    run_row(tui, kickoff_id, "completed")
    tui.press("r")
    tui.press("enter")
    tui.wait_for(f"run {short_id(kickoff_id)}", "completed", kickoff_id, f"Report on {marker}")
    tui.hold(1.2)  # the detail's 1-s tick
    tui.press("escape")
    tui.wait_for("New run of basic")
    run_row(tui, kickoff_id, "completed")
    polled = sim.stats()["requests"]["basic"]
    assert any(route.startswith("GET /status") for route in polled), polled


def test_stop_run(launch: Launch, sim: SimProcess, marker: str) -> None:
    """`s` on a running run asks first; confirmed, the server gets exactly one stop for that
    run and the row shows it stopped."""
    tui = launch(["slow"])
    form_ready(tui, "slow")
    kickoff = start_run(tui, sim, "slow", marker)
    kickoff_id = kickoff["kickoff_id"]
    run_row(tui, kickoff_id, "running")
    tui.press("r")
    tui.press("s")
    tui.wait_for(f"Stop slow run {short_id(kickoff_id)}")
    tui.press("y")
    run_row(tui, kickoff_id, "stopped")
    stops = [s for s in sim.stats()["stop_requests"] if s["kickoff_id"] == kickoff_id]
    assert [s["status"] for s in stops] == [200], stops


def test_restart_reattaches_runs(launch: Launch, sim: SimProcess, marker: str) -> None:
    """Ctrl+Q with a run still going, then crewdash again on the same data dir: both runs are
    back, the running one is polled again (and not started twice), the finished one stays
    completed with the time it took (not the time since it started)."""
    tui = launch(["slow", "basic"])
    form_ready(tui, "slow")
    slow = start_run(tui, sim, "slow", marker)
    run_row(tui, slow["kickoff_id"], "running")
    tui.press("c", "down")
    form_ready(tui, "basic", "topic")
    basic = start_run(tui, sim, "basic", marker)
    run_row(tui, basic["kickoff_id"], "completed")
    tui.hold(3.0)  # the finished run's age grows; the time it took does not
    assert tui.quit() == 0
    assert tui.traceback is None

    def polls() -> int:
        routes = sim.stats()["requests"].get("slow", {})
        return sum(
            sum(statuses.values())
            for route, statuses in routes.items()
            if route.startswith("GET /status") or route.endswith("/status")
        )

    before = polls()
    again = launch(config=tui.config, data_dir=tui.data_dir)
    run_row(again, slow["kickoff_id"], "running")
    row = run_row(again, basic["kickoff_id"], "completed")
    took = re.search(r"(?:(\d+)m )?(\d+)s\s+\d\d:\d\d", row)
    assert took is not None, row
    seconds = int(took.group(1) or 0) * 60 + int(took.group(2))
    assert seconds <= 5, f"a run of ~2.3 s shows {took.group(0)!r} after the restart: {row}"
    sim.wait_stats(lambda _: polls() > before, f"status polls of {slow['kickoff_id']} again")
    run_row(again, slow["kickoff_id"], "running")
    assert len(sim.kickoffs("slow", marker)) == 1, "the restart started the run again"
