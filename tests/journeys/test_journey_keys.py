"""Journeys of keys a person presses fast: the crew list walked with Down at 0.1 s, and Down
held (a key repeat burst). The dashboard must stay up and the form shown must be the one of
the crew that then gets the kickoff."""

from __future__ import annotations

from tests.journeys.harness import Launch, SimProcess
from tests.journeys.steps import form_ready, start_run


def test_crew_list_down_twice(launch: Launch, sim: SimProcess, marker: str) -> None:
    """`c`, then Down twice 0.1 s apart: the third crew's form, alive past the next tick,
    and a kickoff from it goes to that crew."""
    tui = launch(["basic", "typed", "review"])
    form_ready(tui, "basic", "topic")
    tui.press("c")
    tui.press("down", "down", gap=(0.1, 0.1))
    tui.hold(1.5)
    form_ready(tui, "review", "brief")
    kickoff = start_run(tui, sim, "review", marker)
    assert kickoff["inputs"]["brief"] == marker


def test_crew_list_down_held(launch: Launch, sim: SimProcess, marker: str) -> None:
    """Down held in the crew list: 24 Downs 10-30 ms apart (the list wraps at its end). The
    form of the crew the cursor stops on shows, and a kickoff from it goes to that crew."""
    crews = ["basic", "typed", "review", "flow", "slow"]
    tui = launch(crews)
    form_ready(tui, "basic", "topic")
    tui.press("c")
    tui.press(*["down"] * 24, gap=(0.01, 0.03))
    tui.hold(1.5)
    landed = crews[24 % len(crews)]  # slow, past the end of the list once
    form_ready(tui, landed, "topic")
    kickoff = start_run(tui, sim, landed, marker)
    assert kickoff["inputs"] == {"topic": marker}
