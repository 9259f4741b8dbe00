"""The receiver fuzz at scale, on demand (`uv run pytest tests/benchmarks -m benchmark -s`):
50,000 random requests and 400 slow clients against a real receiver process on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "engine"))

from test_receiver_fuzz import check, run_fuzz

pytestmark = pytest.mark.benchmark


@pytest.mark.timeout(900)
async def test_receiver_fuzz_50000_requests(tmp_path: Path) -> None:
    check(await run_fuzz(tmp_path, 50_000, 400), 50_000)
