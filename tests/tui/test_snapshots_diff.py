"""The run diff screen at 120x36 with frozen time (UTC) and fixed ids.

Regenerate with `uv run pytest tests/tui/test_snapshots_diff.py --snapshot-update`, then look
at the SVG in tests/tui/__snapshots__/ before committing it."""

from __future__ import annotations

from typing import Any

import pytest
from diff_fixtures import DiffApp

SIZE = (120, 36)

pytestmark = pytest.mark.usefixtures("utc")


def test_run_diff_screen(snap_compare: Any) -> None:
    assert snap_compare(DiffApp(), terminal_size=SIZE)
