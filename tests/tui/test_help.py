"""The help screen tells a newcomer the truth: the screen's parts, how input requests arrive,
and what every mark in the runs table and crew list means."""

from __future__ import annotations

from crewdash.tui.format import HEALTH_LOOK, STATE_LOOK
from crewdash.tui.screens.help import help_markdown


def test_help_says_when_the_input_modal_opens_by_itself_and_what_i_and_u_do() -> None:
    text = help_markdown()
    assert "**i** opens the answer window" in text
    assert "idle on the dashboard" in text and "opens by itself" in text  # and only then
    assert "never opens by itself again" in text  # after Esc
    assert "**u** resolves it" in text


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
