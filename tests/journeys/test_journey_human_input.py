"""Journeys that answer people's questions: a crew's request changes then approve, a flow's
outcome with a typed note, and the inbox left open while requests arrive. Each checks the
screen and the answers the simulator received (`resumes` in /_sim/stats)."""

from __future__ import annotations

from typing import Any

from tests.journeys.harness import Launch, SimProcess, Tui, short_id
from tests.journeys.steps import form_ready, modal_shown, open_request, run_row, start_run


def _resumes(sim: SimProcess, kickoff_id: str) -> list[dict[str, Any]]:
    return [r for r in sim.stats()["resumes"] if r["body"].get("execution_id") == kickoff_id]


def _answer(tui: Tui, key: str, question: str, result: str) -> None:
    """Ctrl+S / Ctrl+R in the modal, `y` to its confirmation, then Esc once it says `result`."""
    tui.press(key)
    tui.wait_for(question)
    tui.press("y")
    tui.wait_for(result)
    tui.press("escape")
    tui.wait_until(lambda text: not modal_shown(text), "for the modal to close")


def test_crew_request_changes_then_approve(launch: Launch, sim: SimProcess, marker: str) -> None:
    """Request changes with feedback, then approve the task's second attempt: the server gets
    two answers for this run's `review` task, is_approve false then true, each with the
    feedback typed for it; the run then completes."""
    tui = launch(["review"])
    form_ready(tui, "review", "brief")
    kickoff_id = start_run(tui, sim, "review", marker)["kickoff_id"]

    open_request(tui, kickoff_id, task="review")
    tui.wait_for("Approve the draft?", f"Reviewed draft of {marker}")
    tui.type_text(f"shorter {marker}")
    tui.wait_for(f"shorter {marker}", timeout=8)  # the feedback is in the editor
    _answer(tui, "ctrl+r", "run the task again", "✓ Sent")
    first = sim.wait_stats(lambda _: _resumes(sim, kickoff_id), "the first answer", tui=tui)
    assert [(r["body"]["is_approve"], r["body"]["task_id"]) for r in first] == [
        (False, "review")
    ], first
    assert first[0]["body"]["human_feedback"] == f"shorter {marker}"
    assert first[0]["status"] == 200, first

    # the task runs again with the feedback and asks again
    tui.hold(1.1)
    open_request(tui, kickoff_id, task="review")
    tui.wait_for(f"shorter {marker}")  # the re-run's output carries the feedback
    tui.type_text(f"ship it {marker}")
    _answer(tui, "ctrl+s", "Approve task review", "✓ Approved")
    both = sim.wait_stats(
        lambda _: (r := _resumes(sim, kickoff_id)) and len(r) >= 2 and r, "the second answer"
    )
    assert [(r["body"]["is_approve"], r["body"]["task_id"]) for r in both] == [
        (False, "review"),
        (True, "review"),
    ], both
    assert both[1]["body"]["human_feedback"] == f"ship it {marker}"
    assert [r["status"] for r in both] == [200, 200], both
    run_row(tui, kickoff_id, "completed")
    tui.wait_for("inbox 0")
    tui.hold(1.1)
    assert len(_resumes(sim, kickoff_id)) == 2, "an answer was sent twice"


def test_flow_outcome_with_typed_note(launch: Launch, sim: SimProcess, marker: str) -> None:
    """A flow's request: the note typed as soon as the modal opens lands in the note field,
    the chosen outcome goes to the server with the note, and the flow finishes."""
    tui = launch(["flow"])
    form_ready(tui, "flow", "amount")
    kickoff_id = start_run(tui, sim, "flow", marker)["kickoff_id"]
    open_request(tui, kickoff_id)
    tui.wait_for(f"Decide on {marker}", "approve", "reject", "escalate")
    note = f"over budget {marker}"
    tui.type_text(note)
    tui.wait_for(note, timeout=8)  # typed straight away, the note is in the note field
    tui.press("tab")  # from the note to the first outcome
    tui.press("enter")
    answered = tui.wait_until(
        lambda t: "Answer flow with" in t and t, "for the outcome's confirmation"
    )
    question = next(line for line in answered.splitlines() if "Answer flow with" in line)
    outcome = next(o for o in ("approve", "reject", "escalate") if f"'{o}'" in question)
    assert note in answered, f"the confirmation does not carry the note:\n{answered}"
    tui.press("y")
    tui.wait_for("✓ Sent")
    tui.press("escape")
    resumes = sim.wait_stats(lambda _: _resumes(sim, kickoff_id), "the flow's answer", tui=tui)
    callbacks = sim.stats()["callbacks"]
    assert len(resumes) == 1, resumes
    feedback = resumes[0]["body"]["human_feedback"]
    assert note in feedback and feedback.startswith(outcome), (feedback, callbacks)
    run_row(tui, kickoff_id, "completed")


def test_inbox_open_while_requests_arrive(launch: Launch, sim: SimProcess, marker: str) -> None:
    """`I` right after two kickoffs of a crew that asks a few seconds later: the inbox stays
    open for 5 s (its 1-s ticks included) while both requests arrive, lists each with its
    run, and the dashboard stays alive; nothing is answered."""
    tui = launch(["slowreview"])
    form_ready(tui, "slowreview", "brief")
    first = start_run(tui, sim, "slowreview", f"{marker}a")["kickoff_id"]
    tui.press("n", "end", *["backspace"] * 9)
    second = start_run(tui, sim, "slowreview", f"{marker}b", focus=False)["kickoff_id"]
    tui.press("I")
    tui.wait_for("Inbox")
    tui.hold(5.0)  # requests arrive meanwhile; the inbox's tick runs every second
    tui.wait_for(short_id(first), short_id(second), "Approve the slow draft?")
    assert "2 waiting" in tui.text(), tui.describe("the inbox does not count 2 requests")
    tui.press("escape")
    tui.wait_for("inbox 2")
    assert _resumes(sim, first) == [] and _resumes(sim, second) == []


def test_answer_from_run_detail_is_for_that_run(
    launch: Launch, sim: SimProcess, marker: str
) -> None:
    """Two runs wait for input; in the detail of the newer one, `i` opens that run's request
    (not the oldest of any run), and the approval goes to that run only."""
    tui = launch(["review"])
    form_ready(tui, "review", "brief")
    older = start_run(tui, sim, "review", f"{marker}a")["kickoff_id"]
    tui.press("n", "end", *["backspace"] * 9)
    newer = start_run(tui, sim, "review", f"{marker}b", focus=False)["kickoff_id"]
    tui.wait_for("inbox 2")  # both wait (a request's modal may cover the rows)
    tui.hold(1.0)
    while modal_shown(tui.text()):  # requests that opened on their own: put them aside
        tui.press("escape")
        tui.hold(0.5)
    tui.press("r")
    tui.press("home")
    tui.press("enter")
    title = tui.wait_until(
        lambda t: next((line for line in t.splitlines() if "  ·  run " in line), None),
        "for a run's detail",
    )
    if short_id(newer) not in title:  # the newest is not first: take the other row
        tui.press("escape")
        tui.wait_for("filter runs")
        tui.press("down", "enter")
        tui.wait_for(f"run {short_id(newer)}")
    tui.press("i")
    text = tui.wait_until(lambda t: modal_shown(t) and t, "for the human-input modal")
    title = next(line for line in text.splitlines() if "Human input" in line)
    assert short_id(newer) in title, tui.describe(
        f"`i` in the detail of run {short_id(newer)} opened another run's request"
    )
    tui.type_text(f"fine {marker}")
    _answer(tui, "ctrl+s", "Approve task review", "✓ Approved")
    resumes = sim.wait_stats(lambda _: _resumes(sim, newer), "the approval", tui=tui)
    assert [r["body"]["is_approve"] for r in resumes] == [True], resumes
    assert _resumes(sim, older) == [], "the other run was answered"


def test_dismissed_request_stays_aside(launch: Launch, sim: SimProcess, marker: str) -> None:
    """A request put aside with Esc does not pop up again by itself when another request
    arrives: if anything opens then, it is the new request. Nothing is answered."""
    tui = launch(["slowreview"])
    form_ready(tui, "slowreview", "brief")
    first = start_run(tui, sim, "slowreview", f"{marker}a")["kickoff_id"]
    tui.wait_for("inbox 1")
    if not modal_shown(tui.text()):
        tui.press("i")
    tui.wait_until(lambda t: modal_shown(t) and short_id(first) in t, "for the request's modal")
    tui.press("escape")  # put it aside
    tui.wait_until(lambda t: not modal_shown(t), "for the modal to close")
    tui.press("n", "end", *["backspace"] * 9)
    second = start_run(tui, sim, "slowreview", f"{marker}b", focus=False)["kickoff_id"]
    tui.wait_for("inbox 2")  # the second request arrived
    tui.hold(1.5)
    screen = tui.text()
    if modal_shown(screen):
        title = next(line for line in screen.splitlines() if "Human input" in line)
        assert short_id(first) not in title, tui.describe(
            f"the request of run {short_id(first)}, put aside with Esc, opened again by itself"
        )
        assert short_id(second) in title, tui.describe("a request opened by itself")
    assert _resumes(sim, first) == [] and _resumes(sim, second) == []
