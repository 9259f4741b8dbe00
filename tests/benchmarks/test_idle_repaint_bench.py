"""Idle cost of the dashboard's clocks (issue 17, "Repaint what changed"), on the fake engine so
that only the TUI's repaint cost is measured (the real-engine idle bench is another file).

The dashboard holds N runs still going (N=100 by default), whose elapsed clocks tick, and
nothing else happens; beside it, in the same run and on the same pty size, a bare Textual app
(Header, one line, Footer). All run at once, so all see the same machine load. After each has
shown its first frame and settled, the process's own CPU time (utime + stime from
/proc/PID/stat) is read over the same idle window, with the bytes it wrote to the terminal.

Two ages: `long` runs started 1-3 h ago (elapsed "1h 05m": its text changes once a minute) and
`fresh` runs started 7 s to N minutes ago ("3m 12s": the rows on screen change every second).

- CREWDASH_IDLE_WINDOW: seconds measured (default 40).
- CREWDASH_IDLE_RUNS: runs (default 100).
- CREWDASH_IDLE_BEFORE: a source tree of an older crewdash (e.g. `git archive` of a commit,
  unpacked): its dashboard is measured too, beside this one's.

Run: `uv run pytest tests/benchmarks/test_idle_repaint_bench.py -m benchmark -s`.

Measured 2026-12-04 (45 s window, 2 cores shared, load 2.6-4.5), % of a core, same run:
long: bare 0.09, before 0.73, after 0.31 (0 bytes to the pty in both: no words changed);
fresh: bare 0.09, before 5.40, after 3.29 (14.9 -> 13.2 KiB/s).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.benchmarks.tui_pty import PtyApp, python_app

SETTLE = 5.0  # after the first frame: the engine's start, the first flushes, the gc pacer
AGES = {"long": 3600.0, "fresh": 0.0}


@pytest.fixture
def spawned() -> Iterator[list[PtyApp]]:
    apps: list[PtyApp] = []
    try:
        yield apps
    finally:
        for app in apps:
            app.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (its threads included), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def output_bytes(app: PtyApp, since: int) -> int:
    return sum(len(data) for _, data in app.chunks[since:])


def _measure(apps: dict[str, PtyApp], window: float) -> dict[str, tuple[float, int]]:
    """CPU % of a core and bytes written, per app, over the same `window` seconds."""
    for name, app in apps.items():
        app.wait_for(b"Progress" if name == "bare" else b"Elapsed", timeout=90)
    time.sleep(SETTLE)
    start = {name: (cpu_seconds(app.pid), app.mark()) for name, app in apps.items()}
    began = time.perf_counter()
    time.sleep(window)
    took = time.perf_counter() - began
    return {
        name: (
            (cpu_seconds(app.pid) - start[name][0]) / took * 100,
            output_bytes(app, start[name][1]),
        )
        for name, app in apps.items()
    }


@pytest.mark.benchmark
@pytest.mark.timeout(900, method="signal")
@pytest.mark.parametrize("age", list(AGES))
def test_idle_dashboard_cpu_beside_a_bare_app(age: str, spawned: list[PtyApp]) -> None:
    window = float(os.environ.get("CREWDASH_IDLE_WINDOW", "40"))
    runs = os.environ.get("CREWDASH_IDLE_RUNS", "100")
    before = os.environ.get("CREWDASH_IDLE_BEFORE")
    commands: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
        "bare": (("bare",), {}),
        "dashboard": (("idle", runs, str(AGES[age])), {}),
    }
    if before:
        commands["before"] = (("idle", runs, str(AGES[age])), {"CREWDASH_BENCH_ROOT": before})
    apps = {name: python_app(*args, env=env) for name, (args, env) in commands.items()}
    spawned.extend(apps.values())
    results = _measure(apps, window)
    load = os.getloadavg()
    print(f"\nidle {age} runs x{runs}, {window:.0f} s window, load {load[0]:.2f} {load[1]:.2f}")
    for name, (cpu, written) in results.items():
        rate = written / window / 1024
        print(f"  {name:>9}: {cpu:5.2f}% of a core, {rate:6.1f} KiB/s to the pty")
    if age == "long":  # the goal: an idle dashboard costs close to a bare app
        assert results["dashboard"][0] <= max(2.0, results["bare"][0] * 4)
    # `fresh` is reported only: ~30 rows on screen change every second, and Textual repaints
    # a widget's whole line for a changed cell (its compositor's chops), ~1 ms a line
