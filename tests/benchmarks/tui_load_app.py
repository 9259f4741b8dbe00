"""Apps the TUI benchmark spawns on a pty: `bare` (a hello-world Textual app), `crewdash`
(the dashboard on a fake engine with N runs) and `load` (the same while every run changes
every 100 ms). Run as `python tests/benchmarks/tui_load_app.py MODE [N]`."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Attention: bare app ready")
            yield Footer()

    Bare().run()


def crewdash(n: int, load: bool) -> None:
    from crewdash.core.models import RunChanged
    from crewdash.tui.app import CrewdashApp
    from tests.tui.shell_apps import _run, sample_engine

    runs = [_run(i, ("research", "review", "approvals")[i % 3], i * 0.1) for i in range(n)]
    engine = sample_engine(runs)

    class LoadedApp(CrewdashApp):
        def on_ready(self) -> None:
            if load:
                self.run_worker(self._churn(), name="churn")

        async def _churn(self) -> None:
            tick = 0
            while True:
                tick += 1
                for run in runs:
                    engine.publish(
                        RunChanged(
                            replace(
                                run,
                                current_task=f"task_{tick % 7}",
                                completed_tasks=tick % 4,
                                updated_at=time.time(),
                            )
                        )
                    )
                await asyncio.sleep(0.1)

    LoadedApp(engine).run()


if __name__ == "__main__":
    mode = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if mode == "bare":
        bare()
    else:
        crewdash(count, load=mode == "load")
