"""Apps the TUI benchmarks spawn on a pty. Run as `python tests/benchmarks/tui_load_app.py MODE`:

- `bare`: a hello-world Textual app (Header, one line, Footer): the yardstick.
- `crewdash N`: the dashboard on a fake engine holding N runs.
- `load N MEAN`: the same while each run changes on average every MEAN seconds (random runs,
  published in 50 ms ticks, as the engine's monitor delivers them).
- `flood N PERIOD`: every one of the N runs changes every PERIOD seconds, all at once.
- `idle N AGE`: N runs still going, started between AGE and AGE + N minutes ago (their elapsed
  clocks tick), on the real clock, and nothing else happens (test_idle_repaint_bench.py).

CREWDASH_BENCH_ROOT: the source tree to import crewdash from (default: this one), so a bench
can run an older checkout's dashboard beside this one's.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
if os.environ.get("CREWDASH_BENCH_ROOT"):
    sys.path.insert(0, os.environ["CREWDASH_BENCH_ROOT"])

TICK = 0.05


def bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Progress: bare app ready")
            yield Footer()

    Bare().run()


def crewdash(n: int, mode: str = "crewdash", rate: float = 0.0) -> None:
    from crewdash.core.models import RunChanged, RunRecord
    from crewdash.tui.app import CrewdashApp
    from tests.tui.shell_apps import _run, sample_engine

    runs = [_run(i, ("research", "review", "approvals")[i % 3], i * 0.1) for i in range(n)]
    if mode == "idle":  # started `rate` s + i minutes ago, on the real clock: still running
        runs = [replace(r, created_at=time.time() - rate - 60 * i - 7) for i, r in enumerate(runs)]
    engine = sample_engine(runs)
    rng = random.Random(6)

    def changed(run: RunRecord, tick: int) -> RunChanged:
        return RunChanged(
            replace(
                run,
                current_task=f"task_{(tick + rng.randrange(7)) % 7}",
                completed_tasks=(tick + rng.randrange(4)) % 4,
                updated_at=time.time(),
            )
        )

    class LoadedApp(CrewdashApp):
        def on_ready(self) -> None:
            if mode == "load":
                self.run_worker(self._realistic(rate), name="churn")
            elif mode == "flood":
                self.run_worker(self._flood(rate), name="churn")

        async def _realistic(self, mean: float) -> None:
            # n runs each changing every `mean` s on average: n / mean events per second
            per_tick = n * TICK / mean
            tick = 0
            next_at = time.perf_counter()
            while True:
                tick += 1
                count = int(per_tick) + (rng.random() < per_tick % 1)
                for run in rng.sample(runs, min(count, n)):
                    engine.publish(changed(run, tick))
                next_at += TICK
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

        async def _flood(self, period: float) -> None:
            tick = 0
            while True:
                tick += 1
                for run in runs:
                    engine.publish(changed(run, tick))
                await asyncio.sleep(period)

    LoadedApp(engine).run()


if __name__ == "__main__":
    mode = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if mode == "bare":
        bare()
    else:
        crewdash(count, mode, float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
