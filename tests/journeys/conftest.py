"""Fixtures of the journey tests (see harness.py for what they drive).

- `sim` — one `crewdash sim` process for the whole session serving tests/journeys/scenario.toml
  at speed 1. Tests share it: each one finds its own kickoffs in `/_sim/stats` by a marker it
  typed into the inputs, so the order of tests does not matter.
- `launch(crews, ...)` — starts the real `crewdash` on a pty with its own config and data dir
  under `tmp_path` (also its working directory); every program started is ended at teardown,
  and a teardown that finds a traceback in a program's output fails the test.
- `marker` — a short unique word to type into a form and find again in the simulator's stats.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.journeys.harness import SimProcess, Tui

Launch = Callable[..., Tui]


@pytest.fixture(scope="session")
def sim() -> Iterator[SimProcess]:
    process = SimProcess()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def marker() -> str:
    return "j" + uuid.uuid4().hex[:7]


@pytest.fixture
def launch(sim: SimProcess, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Launch]:
    started: list[Tui] = []
    rng = random.Random(request.node.nodeid)

    def start(
        crews: Sequence[str] = (),
        *,
        tokens: dict[str, str] | None = None,
        config: Path | None = None,
        data_dir: Path | None = None,
        args: Sequence[str] = (),
    ) -> Tui:
        if config is None:
            config = sim.config(tmp_path / "config.toml", crews, tokens=tokens)
        tui = Tui(
            config=config,
            data_dir=data_dir or tmp_path / "data",
            cwd=tmp_path,
            rng=rng,
            args=args,
        )
        started.append(tui)
        return tui

    yield start
    tracebacks = []
    for tui in started:
        tui.close()
        if tui.traceback is not None and not tui.reported:
            tracebacks.append(tui.describe("crewdash printed a traceback"))
    if tracebacks:
        pytest.fail("\n\n".join(tracebacks), pytrace=False)
