"""The help screen tells a newcomer the truth: the screen's parts, how input requests arrive,
and what every mark in the runs table and crew list means."""

from __future__ import annotations

from crewdash.tui.format import HEALTH_LOOK, STATE_LOOK
from crewdash.tui.screens.help import help_markdown


def test_help_says_the_input_modal_opens_by_itself() -> None:
    text = help_markdown()
    assert "press **i** to answer" not in text  # the modal no longer waits for `i`
    assert "opens by itself" in text
    assert "typing in a form" in text and "**i**" in text  # the one case where it waits


def test_help_explains_every_mark_of_the_runs_table_and_crew_list() -> None:
    text = help_markdown()
    for symbol, word, _ in STATE_LOOK.values():
        assert f"| `{symbol}` | {word} |" in text
    for symbol, word, _ in HEALTH_LOOK.values():
        assert f"`{symbol}` {word}" in text
    for mark in ("`◆ input`", "`! stalled`", "`! offline`", "`▶`", "`◆`"):
        assert mark in text
    for part in ("Crews", "Input form", "Runs", "Status bar"):
        assert f"**{part}**" in text
