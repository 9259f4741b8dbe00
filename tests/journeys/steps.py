"""Steps a person takes in the dashboard, shared by the journeys: each presses keys like a
person and waits for what the screen then shows."""

from __future__ import annotations

from typing import Any

from tests.journeys.harness import WAIT, SimProcess, Tui, short_id

#: what only a human-input modal shows (its review box and its crew buttons / flow title)
MODAL_MARKS = ("Output to review", "Human input  ·")


def form_ready(tui: Tui, crew: str, *fields: str) -> str:
    """Wait for the dashboard with `crew`'s form loaded (its inputs read from the server)."""
    return tui.wait_for(f"New run of {crew}", *fields)


def start_run(
    tui: Tui, sim: SimProcess, crew: str, text: str, *, focus: bool = True
) -> dict[str, Any]:
    """`n` (unless the first field has the focus already: `focus=False`), type `text` into
    the form's first field, Ctrl+S; the kickoff the simulator accepted with `text` in its
    inputs (exactly one)."""
    if focus:
        tui.press("n")
    tui.type_text(text)
    tui.press("ctrl+s")
    kickoff = sim.wait_stats(
        lambda _: sim.kickoffs(crew, text), f"a kickoff of {crew} with {text!r}", tui=tui
    )
    assert len(kickoff) == 1, f"one Ctrl+S, {len(kickoff)} kickoffs: {kickoff}"
    return kickoff[0]


def run_row(tui: Tui, kickoff_id: str, *words: str, timeout: float = WAIT) -> str:
    """Wait for the runs table's row of `kickoff_id` to show every one of `words`."""
    sid = short_id(kickoff_id)

    def row(text: str) -> str | None:
        for line in text.splitlines():
            if sid in line and all(w in line for w in words):
                return line
        return None

    return tui.wait_until(row, f"for the row of {sid} to show {words!r}", timeout)


def modal_shown(text: str) -> bool:
    return any(mark in text for mark in MODAL_MARKS)


def open_request(tui: Tui, kickoff_id: str, task: str | None = None) -> str:
    """The human-input modal of `kickoff_id`: opened by the dashboard on its own, else by
    `i` once the run shows it waits for input. Checks the modal names that run (and task)."""
    sid = short_id(kickoff_id)
    run_row(tui, sid, "input")
    try:
        tui.wait_until(modal_shown, "for the request to open on its own", timeout=2.0)
    except AssertionError:
        tui.check_alive()
        tui.press("i")
    text = tui.wait_until(
        lambda t: t if modal_shown(t) and sid in t else None,
        f"for the human-input modal of run {sid}",
    )
    title = next(line for line in text.splitlines() if "Human input" in line)
    assert sid in title, f"the modal is for another run: {title.strip()}"
    if task is not None:
        assert f"task {task}" in title, f"the modal is for another task: {title.strip()}"
    # a person reads the request before typing; a modal that opened by itself takes no typing
    # for its first moments (run_actions.SETTLE_SECONDS) for the same reason
    tui.hold(1.0)
    return text
