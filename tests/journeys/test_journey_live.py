"""One live truth (issue 14), as an operator sees it: runs started by `crewdash kickoff` in
another terminal show on a running dashboard within a second, and two dashboards on one data
dir ask the simulator for no more statuses than one does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.journeys.harness import Launch, SimProcess, Tui
from tests.journeys.steps import form_ready, run_row


def _kickoff(tui: Tui, crew: str, topic: str) -> tuple[str, float]:
    """`crewdash kickoff CREW -i topic=TOPIC` in another process on the dashboard's data dir;
    the kickoff id it printed and when it printed it (the id is in the store by then)."""
    env = {
        **os.environ,
        "CREWDASH_DATA_DIR": str(tui.data_dir),
        "CREWDASH_CONFIG": str(tui.config),
    }
    argv = [sys.executable, "-m", "crewdash", "--config", str(tui.config)]
    argv += ["--data-dir", str(tui.data_dir), "kickoff", crew, "-i", f"topic={topic}"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tui.cwd
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    printed = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and line.strip(), f"kickoff failed ({proc.returncode}): {err}"
    return line.strip(), printed


def _polls(sim: SimProcess, crew: str) -> int:
    routes = sim.stats()["requests"].get(crew, {})
    return sum(sum(codes.values()) for route, codes in routes.items() if "status" in route)


def test_cli_kickoff_shows_on_a_running_dashboard(
    launch: Launch, sim: SimProcess, marker: str
) -> None:
    """The dashboard is up; `crewdash kickoff` in another process: its run is on the screen
    within a second of the command printing its id, and goes on to completed there."""
    tui = launch(["basic"])
    form_ready(tui, "basic", "topic")
    tui.hold(1.0)
    times = []
    for i in range(3):
        kickoff_id, printed = _kickoff(tui, "basic", f"{marker}{i}")
        run_row(tui, kickoff_id, timeout=5.0)
        times.append(time.monotonic() - printed)
        run_row(tui, kickoff_id, "completed")
    print(f"a CLI kickoff appeared on the dashboard after {[f'{t:.2f}' for t in times]} s")
    assert max(times) < 2.0, times  # 1 s is the aim: the bound leaves room for a loaded machine


def _polls_until_done(
    launch: Launch, sim: SimProcess, data_dir: Path, dashboards: int, marker: str
) -> int:
    """`dashboards` dashboards on `data_dir`, three CLI kickoffs of basic: the simulator's
    status requests from the first kickoff until every run shows completed."""
    tuis = [launch(["basic"], data_dir=data_dir) for _ in range(dashboards)]
    for tui in tuis:
        form_ready(tui, "basic", "topic")
    before = _polls(sim, "basic")
    ids = [_kickoff(tuis[0], "basic", f"{marker}{i}")[0] for i in range(3)]
    for tui in tuis:
        for kickoff_id in ids:
            run_row(tui, kickoff_id, "completed")
    tuis[0].hold(1.0)
    polls = _polls(sim, "basic") - before
    for tui in tuis:
        assert tui.quit() == 0
    return polls


def test_two_dashboards_poll_no_more_than_one(
    launch: Launch, sim: SimProcess, tmp_path: Path, marker: str
) -> None:
    """Three runs started from the command line, watched by one dashboard, then the same by
    two dashboards on one data dir: the two send about as many status requests as the one
    (each run is polled by one live process; the other shows what it writes)."""
    one = _polls_until_done(launch, sim, tmp_path / "one", 1, marker + "a")
    two = _polls_until_done(launch, sim, tmp_path / "two", 2, marker + "b")
    print(f"status requests for 3 runs: one dashboard {one}, two dashboards {two}")
    assert two <= one * 1.3 + 4, (one, two)
