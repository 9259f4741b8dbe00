"""Snapshots of the shell at 120x36 with frozen time (UTC) and fixed ids: the main screen,
the first-run screen, help, and the runs table with a filter.

Regenerate with `uv run pytest tests/tui/test_snapshots_main.py --snapshot-update`, look at the
SVGs in tests/tui/__snapshots__/, then `uv run python scripts/screenshots.py` for the README."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.shell_apps import filling, filtered, first_run_app, help_open, main_app, settle

SIZE = (120, 36)


pytestmark = pytest.mark.usefixtures("utc")


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=settle)


def test_main_screen_filling_the_form(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=filling)


def test_main_screen_filter_active(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=filtered)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=help_open)


def test_first_run_screen(snap_compare: Any) -> None:
    assert snap_compare(first_run_app(), terminal_size=SIZE, run_before=settle)
