"""The words and symbols every screen uses for runs, crews and times."""

from __future__ import annotations

import time

import pytest

from crewdash.aop.models import RunState
from crewdash.core.duration_words import format_duration
from crewdash.core.models import CrewHealth, KickoffPhase
from crewdash.tui.format import (
    duration_changes_in,
    format_ago,
    format_clock,
    health_label,
    next_midnight,
    phase_label,
    progress_bar,
    short_id,
    state_label,
)


@pytest.mark.parametrize("state", list(RunState))
def test_every_state_has_a_symbol_and_a_word_not_only_a_colour(state: RunState) -> None:
    label = state_label(state, state.value)
    symbol, _, word = label.plain.partition(" ")
    assert symbol and word
    assert label.style  # coloured too


def test_unknown_state_shows_the_servers_word() -> None:
    assert state_label(RunState.UNKNOWN, "QUEUED_REMOTE").plain == "· QUEUED_REMOTE"


def test_phase_label_only_when_the_run_may_not_exist() -> None:
    assert phase_label(KickoffPhase.ACCEPTED) is None
    refused = phase_label(KickoffPhase.REFUSED)
    assert refused is not None and "refused" in refused.plain


def test_health_words() -> None:
    assert "token rejected" in health_label(CrewHealth.TOKEN_REJECTED).plain
    assert "offline" in health_label(CrewHealth.OFFLINE).plain


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0, "0s"), (42.9, "42s"), (185, "3m 05s"), (3720, "1h 02m"), (183600, "2d 03h")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "just now"), (12, "12s ago"), (300, "5m ago"), (7300, "2h ago")]
)
def test_format_ago(seconds: float, text: str) -> None:
    assert format_ago(seconds) == text


def test_short_id() -> None:
    assert short_id("6f1c2a9e-0b44-4c2d-9a51-7e3d2a1b0c9f") == "6f1c2a9e"
    assert short_id(None) == "—"


def test_progress_bar_shows_n_of_m_and_clamps() -> None:
    assert progress_bar(2, 4, 4).plain == "██░░ 2/4"
    assert progress_bar(9, 4, 4).plain == "████ 4/4"
    assert progress_bar(None, None).plain == "—"


@pytest.mark.parametrize(
    ("seconds", "left"),
    [
        (0.0, 1.0),
        (42.25, 0.75),
        (192.5, 0.5),
        (3599.0, 1.0),
        (3600.0, 60.0),
        (7530.0, 30.0),
        (86399.5, 0.5),
        (90000.0, 3600.0),
        (-5.0, 1.0),
    ],
)
def test_duration_changes_in_is_when_its_words_next_change(seconds: float, left: float) -> None:
    assert duration_changes_in(seconds) == pytest.approx(left)
    if seconds >= 0:
        later = seconds + left
        assert format_duration(seconds + left * 0.99) == format_duration(seconds)
        assert format_duration(later) != format_duration(seconds)


def test_next_midnight_is_where_a_clock_shows_a_date() -> None:
    now = time.mktime((2026, 12, 31, 23, 59, 30, 0, 0, -1))
    midnight = next_midnight(now)
    assert time.localtime(midnight)[:6] == (2027, 1, 1, 0, 0, 0)
    assert format_clock(now - 3600, now=midnight - 1, seconds=False) == "22:59"
    assert format_clock(now - 3600, now=midnight, seconds=False) == "Dec 31"
