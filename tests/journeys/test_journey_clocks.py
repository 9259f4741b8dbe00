"""The runs table's elapsed clocks, as an operator watches them: several live runs tick on the
real dashboard (each second's tick is one refresh for every clock on screen, and a plain
clock cell is laid out without Rich), while the operator moves the row cursor over them with
human gaps and a burst. Every clock keeps counting, rows stay apart, nothing crashes."""

from __future__ import annotations

import re

from tests.journeys.harness import Launch, SimProcess, Tui
from tests.journeys.steps import form_ready, run_row, start_run

SECONDS = re.compile(r"\s(\d+)s\s")


def _clock(tui: Tui, kickoff_id: str) -> int:
    """The seconds the run's elapsed cell shows now (its runs are under a minute old)."""
    line = run_row(tui, kickoff_id, "running")
    found = SECONDS.search(line)
    assert found, f"no elapsed seconds in {line!r}"
    return int(found.group(1))


def test_clocks_tick_in_every_row_while_the_cursor_moves(
    launch: Launch, sim: SimProcess, marker: str
) -> None:
    tui = launch(["slow"])
    form_ready(tui, "slow", "topic")
    ids = [start_run(tui, sim, "slow", f"{marker}{n}")["kickoff_id"] for n in range(3)]
    for kickoff_id in ids:
        run_row(tui, kickoff_id, "running")
    before = {kickoff_id: _clock(tui, kickoff_id) for kickoff_id in ids}
    tui.press("r")  # the runs table
    tui.press("down", "down", "up", gap=(0.3, 0.6))  # a person reading rows
    tui.press(*["down"] * 6, gap=(0.01, 0.03))  # then a held key
    tui.press("up", "up", gap=(0.2, 0.4))
    for kickoff_id in ids:  # each row's own clock moved on by at least 2 s
        tui.wait_until(
            lambda _, k=kickoff_id: _clock(tui, k) >= before[k] + 2,
            f"the clock of {kickoff_id[:8]} to pass {before[kickoff_id] + 2}s",
        )
    after = [_clock(tui, kickoff_id) for kickoff_id in ids]
    # started one after another: the first run's clock is never behind the last one's
    assert after[0] >= after[-1], after
