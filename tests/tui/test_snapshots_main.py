"""Snapshots of the shell at 120x36 with frozen time (UTC) and fixed ids: the main screen,
the first-run screen, help, and the runs table with a filter.

Regenerate with `uv run pytest tests/tui/test_snapshots_main.py --snapshot-update`, look at the
SVGs in tests/tui/__snapshots__/, then `uv run python scripts/screenshots.py` for the README."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input

from tests.tui.shell_apps import first_run_app, main_app, settle

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "UTC")
    time.tzset()
    yield
    mp.undo()
    time.tzset()


async def _filtered(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("slash", *"!research")
    await pilot.press("enter")
    await settle(pilot)


async def _help(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def _filling(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("n", *"agent frameworks", "tab", "backspace", "9")
    for widget in pilot.app.screen.query(Input).results():
        widget.cursor_blink = False
    await pilot.pause()


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=settle)


def test_main_screen_filling_the_form(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=_filling)


def test_main_screen_filter_active(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=_filtered)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=_help)


def test_first_run_screen(snap_compare: Any) -> None:
    assert snap_compare(first_run_app(), terminal_size=SIZE, run_before=settle)
