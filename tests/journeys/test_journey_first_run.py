"""The first run: no config file yet. The welcome screen offers to add a crew (saved to the
config, then the dashboard on it) or to open the demo (the operator's config untouched)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.journeys.harness import Launch, SimProcess
from tests.journeys.steps import form_ready


def test_first_run_add_crew(launch: Launch, sim: SimProcess, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    inputs_before = sim.stats()["requests"].get("basic", {}).get("GET /inputs", {}).get("200", 0)
    tui = launch(config=config)
    tui.wait_for("Welcome to crewdash", "Add a crew", "Open the demo")
    tui.press("a")
    tui.wait_for("Name (how crewdash calls it)", "URL of the deployment")
    tui.type_text("basic")
    tui.press("tab")
    tui.type_text(sim.crew_url("basic"))
    tui.press("tab")
    tui.type_text(sim.token("basic"), gap=(0.005, 0.02))  # pasted
    assert sim.token("basic") not in tui.text(), "the token is shown in clear"
    tui.press("enter")
    form_ready(tui, "basic", "topic")
    tui.wait_until(lambda t: "● basic" in t, "for the new crew to be ok")
    saved = tomllib.loads(config.read_text())
    assert saved["crews"]["basic"]["url"] == sim.crew_url("basic"), saved
    assert config.stat().st_mode & 0o077 == 0, "a config holding a token is readable by others"
    inputs_after = sim.stats()["requests"]["basic"]["GET /inputs"]["200"]
    assert inputs_after > inputs_before, "the form was not read from the new crew"
    assert sim.token("basic") not in tui.text()


def test_first_run_demo(launch: Launch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    tui = launch(config=config)
    tui.wait_for("Welcome to crewdash", "Open the demo")
    tui.press("d")
    tui.wait_for("Market Research Crew", "Expense Approval Flow")
    tui.wait_until(lambda t: "● Market Research Crew" in t, "for the demo's simulator to answer")
    tui.hold(1.2)
    assert not config.exists(), "the demo wrote the operator's config"
