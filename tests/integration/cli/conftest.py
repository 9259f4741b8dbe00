"""Fixtures of the CLI integration tests (helpers live in `cli_helpers`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CliEnv, write_crews


@pytest.fixture
async def cli(
    sim_server: Any,
    sim_stats: Callable[[Any], Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> CliEnv:
    config = tmp_path / "config.toml"
    data_dir = tmp_path / "data"
    write_crews(config, sim_server)
    monkeypatch.setenv("CREWDASH_CONFIG", str(config))
    monkeypatch.setenv("CREWDASH_DATA_DIR", str(data_dir))
    return CliEnv(sim_server, config, data_dir, capsys, sim_stats)
