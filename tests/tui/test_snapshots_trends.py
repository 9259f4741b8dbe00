"""Snapshots of the crew trends at 120x36, frozen time (UTC) and a seeded store: the crew pane
with its 24 h sparklines, and the trends screen of one crew.

Regenerate with `uv run pytest tests/tui/test_snapshots_trends.py --snapshot-update`, then look
at the SVGs in tests/tui/__snapshots__/ before committing them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crewdash.tui.app import CrewdashApp
from tests.tui.trends_apps import close_store, trends_app, trends_loaded, trends_open

SIZE = (120, 36)

pytestmark = pytest.mark.usefixtures("utc")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CrewdashApp]:
    made = trends_app(tmp_path / "runs.sqlite3")
    yield made
    close_store(made)


def test_main_screen_with_crew_sparklines(snap_compare: Any, app: CrewdashApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=trends_loaded)


def test_crew_trends_screen(snap_compare: Any, app: CrewdashApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=trends_open)
