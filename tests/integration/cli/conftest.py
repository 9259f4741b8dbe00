"""Fixtures of the CLI integration tests (helpers live in `cli_helpers`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CliEnv, cli_env


@pytest.fixture
async def cli(
    sim_server: Any,
    sim_stats: Callable[[Any], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> CliEnv:
    return cli_env(sim_server, tmp_path, capsys, monkeypatch, sim_stats)
