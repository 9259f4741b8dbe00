"""Fixtures shared by the benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.benchmarks.engine_ui_procs import Sim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """`crewdash sim` serving the long crew, in its own process, for one test."""
    server = Sim(tmp_path)
    try:
        yield server
    finally:
        server.close()
