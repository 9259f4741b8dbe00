"""What a new operator meets first, against a fake engine at 120x36: crews on one line each
with their health and latency, room for the form, focus in the human-input modal and in the
form, and no toast over the modal's buttons."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Footer, Select, Switch, TextArea

from crewdash.core.config.model import Config, CrewKind
from crewdash.core.models import AnswerOutcome, CrewHealth, CrewHealthChanged, InboxChanged
from crewdash.tui import run_actions
from crewdash.tui.app import CrewdashApp
from crewdash.tui.screens.human_input import HumanInputModal
from tests.tui.fake_engine import FakeEngine, crew
from tests.tui.shell_apps import sample_engine
from tests.tui.test_app_shell import T0, form_ready, make_app, make_run, request, settle

SIZE = (120, 36)


async def test_crews_are_one_line_each_with_health_and_latency(tmp_path: Path) -> None:
    crews = {
        "review": replace(crew("review"), label="Content Review Crew (asks a human)"),
        "flow": replace(crew("flow", CrewKind.FLOW), label="Expense Approval Flow"),
    }
    engine = FakeEngine(Config(path=None, crews=crews))
    engine.health = {"review": (CrewHealth.UNKNOWN, ""), "flow": (CrewHealth.UNKNOWN, "")}
    app = make_app(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        pane = app.main_screen.crews
        assert pane.health_text("review") == "checking…"  # not "not polled yet"
        engine.publish(CrewHealthChanged("review", CrewHealth.OK, "ok", T0, latency=0.012))
        await pilot.pause()
        line = pane.get_option("review").prompt.plain
        assert "\n" not in line
        assert "Content Review Crew (asks a human)" not in line and "…" in line
        assert line.startswith("● Content") and " crew " in line and line.endswith("▶0 ◆0")
        assert pane.option_count == 2 and pane.virtual_size.height == 2  # one row per crew
        pane.choose("review")
        await pilot.pause()
        assert pane.health_text("review") == "ok · 12 ms"
        assert str(pane.border_subtitle).startswith("ok · 12 ms")
        # a later poll without a latency keeps the last one measured
        engine.publish(CrewHealthChanged("review", CrewHealth.OK, "ok", T0))
        assert pane.health_text("review") == "ok · 12 ms"


async def test_the_form_takes_room_while_the_operator_fills_it(tmp_path: Path) -> None:
    app = CrewdashApp(sample_engine(), now=lambda: T0, data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        form = await form_ready(pilot, app)
        left = app.main_screen.query_one("#left")
        narrow = left.size.width
        await pilot.press("n")
        await pilot.pause()
        assert app.main_screen.filling and left.size.width > narrow + 15
        # one-line editors: the whole research form fits without scrolling
        fields = form.query_one("#form-fields")
        assert fields.virtual_size.height <= fields.size.height
        assert form.query_one("#form-raw-toggle", Switch).size.height == 1
        await pilot.press("escape")
        await pilot.pause()
        assert not app.main_screen.filling and left.size.width == narrow


async def test_tab_walks_the_fields_then_start_then_the_raw_switch(tmp_path: Path) -> None:
    app = CrewdashApp(sample_engine(), now=lambda: T0, data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        form = await form_ready(pilot, app)
        await pilot.press("n", *"agents", "tab")
        assert form.field("topic").raw() == "agents"
        assert app.focused is form.field("depth").editor
        await pilot.press("backspace", *"5", "tab")
        assert form.field("depth").raw() == "5"
        assert isinstance(app.focused, Select)
        await pilot.press("tab")
        assert app.focused is form.query_one("#form-start", Button)
        await pilot.press("tab")
        assert app.focused is form.query_one("#form-raw-toggle", Switch)


async def test_the_crew_modal_focuses_the_feedback_and_has_its_own_footer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the window stays open until the test ends it: on a loaded machine 0.6 s of wall clock
    # can pass between the modal opening and the first assertion
    monkeypatch.setattr(run_actions, "SETTLE_SECONDS", 600.0)
    engine = sample_engine([make_run(1)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.main_screen.runs.focus()
        engine.requests.append(request(1))
        engine.publish(InboxChanged(request(1)))
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, HumanInputModal)
        # it opened by itself: keys pressed as it appears were meant for something else
        assert modal.settling and app.focused is modal.query_one("#hi-review")
        await pilot.press("i", "ctrl+s")
        assert modal.query_one("#hi-feedback", TextArea).text == ""
        assert isinstance(app.screen, HumanInputModal)  # Ctrl+S asked nothing yet
        modal._settled()  # what its timer does after SETTLE_SECONDS
        await pilot.pause()
        assert app.focused is modal.query_one("#hi-feedback", TextArea)
        await pilot.press(*"tighten the intro")
        assert modal.query_one("#hi-feedback", TextArea).text == "tighten the intro"
        assert modal.query(Footer)
        keys = {b.binding.action for b in modal.active_bindings.values()}
        assert {"approve", "request_changes", "close"} <= keys
        # no toast over the modal's buttons for the request it shows
        assert not any("Human input needed" in n.title for n in app._notifications)
        modal._finish(AnswerOutcome.ACCEPTED)  # answered: the Footer no longer offers it
        await pilot.pause()
        shown = {b.binding.action for b in modal.active_bindings.values() if b.enabled}
        assert "approve" not in shown and "close" in shown


async def test_the_flow_modal_focuses_the_note_so_typed_words_are_kept(tmp_path: Path) -> None:
    engine = sample_engine([make_run(1, "approvals")])
    app = make_app(engine, tmp_path)
    flow = replace(request(1), crew="approvals", emit=("approve", "reject"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.main_screen.runs.focus()
        engine.requests.append(flow)
        engine.publish(InboxChanged(flow))
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, HumanInputModal)
        note = modal.query_one("#hi-feedback", TextArea)
        modal._settled()  # it opened by itself: typing starts after a moment (SETTLE_SECONDS)
        await pilot.pause()
        assert app.focused is note
        await pilot.press(*"legal ok'd it")  # typed straight away: none of it is lost
        assert note.text == "legal ok'd it"
        await pilot.press("tab")  # the outcomes are one Tab away
        assert app.focused is modal.query_one("#hi-outcome-0", Button)
        shown = {b.binding.action for b in modal.active_bindings.values() if b.enabled}
        assert "approve" not in shown and "close" in shown


async def test_tab_in_a_burst_of_keys_moves_on_before_the_next_key(tmp_path: Path) -> None:
    """Keys that arrive at once (a fast typist, a busy app, tmux send-keys): the key after
    Tab belongs to the next field, not to the one Tab left."""
    from textual import events

    app = CrewdashApp(sample_engine(), now=lambda: T0, data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        form = await form_ready(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        form.field("depth").set_value("")
        burst = [("a", "a"), ("i", "i"), ("tab", None), ("7", "7")]
        for key, char in burst:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        assert form.field("topic").raw() == "ai"
        assert form.field("depth").raw() == "7"
