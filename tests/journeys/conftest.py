"""Fixtures of the journey tests (see harness.py for what they drive).

- `sim` — one `crewdash sim` process for the whole session serving tests/journeys/scenario.toml
  at speed 1. Tests share it: each one finds its own kickoffs in `/_sim/stats` by a marker it
  typed into the inputs, so the order of tests does not matter.
- `launch(crews, ...)` — starts the real `crewdash` on a pty with its own config and data dir
  under `tmp_path` (also its working directory). At teardown every program still running is
  left with Ctrl+Q; the test fails if one then exits non-zero, writes anything after leaving
  the alternate screen, or printed a traceback at any time.
- `marker` — a short unique word to type into a form and find again in the simulator's stats.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.journeys.harness import Launch, SimProcess, Tui


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
    problems = []
    for tui in started:
        # the operator leaves as operators do: Ctrl+Q, a clean exit 0, nothing printed after
        if not tui.exited and not tui.reported and tui.traceback is None:
            try:
                code = tui.quit()
                if code != 0:
                    problems.append(f"Ctrl+Q ended crewdash with exit code {code}")
            except AssertionError as exc:
                problems.append(str(exc))
        tui.close()
        if tui.traceback is not None and not tui.reported:
            problems.append(tui.describe("crewdash printed a traceback"))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
