"""The receiver fuzz at scale, on demand (`uv run pytest tests/benchmarks -m benchmark -s`):
50,000 random requests and 100 slow clients against a real receiver process on loopback (more
slow clients than the receiver's cap of 128 connections would, by design, shut out the
fuzzer's own requests while they last; the cap itself is tested in test_receiver_hardening)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "engine"))

from test_receiver_fuzz import check, run_fuzz

pytestmark = pytest.mark.benchmark


@pytest.mark.timeout(900)
async def test_receiver_fuzz_50000_requests(tmp_path: Path) -> None:
    check(await run_fuzz(tmp_path, 50_000, 100), 50_000)
