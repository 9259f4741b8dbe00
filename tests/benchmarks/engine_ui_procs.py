"""The processes of the engine-UI benchmark (`test_engine_ui_bench.py`): the simulator in its
own process, the trees whose `crewdash` is measured, a data dir seeded with live runs by that
tree's own `crewdash batch` (real HTTP kickoffs), and a process's CPU time from /proc.

Environment:
- `BENCH_TREE=PATH`: the checkout whose dashboard is measured and held to the goals (default:
  this one). Its `.venv/bin/crewdash` is run (`uv sync --project PATH` makes it).
- `BENCH_BASELINE=PATH[,PATH]`: checkouts measured beside it, interleaved, reported only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks.tui_pty import _die_with_parent, bench_env

ROOT = Path(__file__).resolve().parents[2]
CREW = "long"
# one crew whose runs stay live for 20 hours: pending 1 s, then two tasks of 10 hours each
SCENARIO = f"""
name = "bench-long"
[[crews]]
name = "{CREW}"
inputs = ["n"]
queue_delay = 1.0
[[crews.tasks]]
id = "first"
agent = "Agent"
duration = 36000
steps = 1
[[crews.tasks]]
id = "second"
agent = "Agent"
duration = 36000
steps = 1
"""


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, 2 cores)"


@dataclass(frozen=True)
class Tree:
    label: str
    script: Path  # the tree's installed `crewdash` entry point
    goals: bool  # held to the goals (the tree under test), or reported only


def _label(path: Path) -> str:
    head = subprocess.run(
        ["git", "-C", str(path), "log", "-1", "--format=%h"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{path.name}@{head or '?'}"


def _tree(path: Path, *, goals: bool) -> Tree:
    path = path.resolve()
    if path == ROOT:
        script = Path(sys.executable).with_name("crewdash")
    else:
        script = path / ".venv" / "bin" / "crewdash"
    if not script.exists():
        raise FileNotFoundError(f"{script} is missing: run `uv sync --project {path}` first")
    return Tree(_label(path), script, goals)


def trees() -> list[Tree]:
    """The tree under test first, then the baselines (measured in this order every round)."""
    under_test = _tree(Path(os.environ.get("BENCH_TREE", ROOT)), goals=True)
    baselines = [
        _tree(Path(p), goals=False) for p in os.environ.get("BENCH_BASELINE", "").split(",") if p
    ]
    return [under_test, *baselines]


class Sim:
    """`crewdash sim` (this checkout's) serving the long crew, in its own process group."""

    def __init__(self, workdir: Path) -> None:
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        self.config = workdir / "config.toml"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crewdash",
                "sim",
                "--scenario",
                str(scenario),
                "--write-config",
                str(self.config),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=bench_env(),
            cwd=ROOT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        assert self.process.stdout is not None
        lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if " at http://" in line and not self.url:
                self.url = line.rsplit(" at ", 1)[1].strip()
            if line.startswith("Ctrl+C stops"):
                break
        if not self.url or not self.config.exists():
            self.close()
            raise RuntimeError("the simulator did not start:\n" + "".join(lines))

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=30) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def status_requests(self) -> int:
        """Status requests answered so far (every route variant, every answer)."""
        routes = self.stats()["requests"].get(CREW, {})
        return sum(sum(c.values()) for route, c in routes.items() if "status" in route)

    def live_runs(self) -> int:
        return int(self.stats()["runs"]["live"])

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


def dashboard_env(sim: Sim, data_dir: Path) -> dict[str, str]:
    return {"CREWDASH_CONFIG": str(sim.config), "CREWDASH_DATA_DIR": str(data_dir)}


def seed(tree: Tree, sim: Sim, data_dir: Path, runs: int) -> float:
    """`runs` live runs in `data_dir`, kicked off on the simulator by the tree's own
    `crewdash batch` (so the store is the one that tree writes). Returns its seconds."""
    rows = data_dir.with_suffix(".jsonl")
    rows.write_text("".join(json.dumps({"n": str(i)}) + "\n" for i in range(runs)))
    started = time.perf_counter()
    done = subprocess.run(
        [str(tree.script), "batch", CREW, str(rows), "--concurrency", "16"],
        capture_output=True,
        text=True,
        env={**bench_env(), **dashboard_env(sim, data_dir)},
        cwd=data_dir.parent,
        timeout=900,
        check=False,
    )
    if done.returncode != 0 or f"{runs} started" not in done.stderr + done.stdout:
        raise RuntimeError(
            f"seeding {runs} runs with {tree.label} failed (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return time.perf_counter() - started


def prime(tree: Tree, sim: Sim, data_dir: Path, runs: int) -> float:
    """Let the tree's `crewdash watch` see every run of `data_dir` running (each run's first
    change after its kickoff is then in the store), so every dashboard session starts from
    the same steady state, not with `runs` changes to write and show. Returns its seconds."""
    started = time.perf_counter()
    watch = subprocess.Popen(
        [str(tree.script), "watch", CREW, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env={**bench_env(), **dashboard_env(sim, data_dir)},
        cwd=data_dir.parent,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    assert watch.stdout is not None
    running: set[str] = set()
    try:
        deadline = time.monotonic() + 900
        for line in watch.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("state") == "running":
                    running.add(str(event.get("local_id")))
            if len(running) >= runs or time.monotonic() > deadline:
                break
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(watch.pid, signal.SIGINT)
        try:
            watch.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.wait(5)
    if len(running) < runs:
        raise RuntimeError(f"{tree.label}: `crewdash watch` saw {len(running)} of {runs} running")
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), from /proc/PID/stat."""
    # after the ")" closing the command name, field 3 (state) is index 0: utime is field 14
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def main_thread_cpu_seconds(pid: int) -> float:
    """utime + stime of the process's main thread alone (the UI's event loop): its task id is
    the pid. The rest of the process's CPU is the engine thread, the driver's input thread and
    the interpreter's other threads."""
    return cpu_seconds_of(Path(f"/proc/{pid}/task/{pid}/stat"))


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantiles(values_ms: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99, max."""
    ms = sorted(values_ms)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return statistics.median(ms), cuts[94], cuts[98], ms[-1]


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"median {statistics.median(values):.0f} (range {min(values):.0f}-{max(values):.0f})"
