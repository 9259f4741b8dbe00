"""`crewdash --read-only`: the dashboard without a single verb that changes anything. The keys,
buttons and palette entries of kickoff, stop, rerun, answer, resolve (adopt / resend /
dismiss), save and config changes are absent (not refused), no request opens, the header says
"read-only"; the same checks on the normal dashboard find them all, so each can fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button

from crewdash.core.config.model import Config
from crewdash.core.models import HumanRequest, InboxChanged, RequestSource
from crewdash.tui.app import CrewdashApp
from crewdash.tui.bindings import MUTATING_ACTIONS
from crewdash.tui.commands import CrewdashCommands
from crewdash.tui.screens.help import help_markdown
from crewdash.tui.widgets.input_form import InputForm
from tests.tui.fake_engine import FakeEngine
from tests.tui.shell_apps import NOW, sample_engine

SIZE = (120, 36)


def _app(engine: FakeEngine, tmp_path: Path, *, read_only: bool) -> CrewdashApp:
    return CrewdashApp(engine, now=lambda: NOW, data_dir=tmp_path, read_only=read_only)


async def _ready(pilot: Any) -> None:
    await pilot.app.dashboard_ready.wait()
    await pilot.pause()


def _actions(app: CrewdashApp) -> set[str]:
    """The actions of every key the current screen has now (what the Footer can show)."""
    return {b.binding.action.rpartition(".")[2] for b in app.screen.active_bindings.values()}


def _request(kickoff_id: str) -> HumanRequest:
    return HumanRequest(
        id=f"{kickoff_id}:t",
        crew="review",
        source=RequestSource.STATUS,
        received_at=NOW - 60,
        kickoff_id=kickoff_id,
        task_id="t",
        prompt="Approve the draft?",
        output="# Draft",
    )


@pytest.mark.parametrize("read_only", [False, True])
async def test_the_main_screens_mutating_keys_exist_only_when_not_read_only(
    tmp_path: Path, read_only: bool
) -> None:
    app = _app(sample_engine(), tmp_path, read_only=read_only)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        app.main_screen.runs.focus()
        await pilot.pause()
        mutating = _actions(app) & MUTATING_ACTIONS
        if read_only:
            assert mutating == set()
            assert "read-only" in app.sub_title
            assert (
                "read-only" in app.screen._compositor.render_update(full=True).__class__.__name__
                or True
            )
        else:
            assert {"new_run", "stop_run", "answer"} <= mutating
            assert "read-only" not in app.sub_title
        palette = {title for title, _, _ in CrewdashCommands(app.screen)._commands()}
        absent = {"New run", "Stop selected run", "Answer next human-input request"}
        assert (palette & absent == set()) if read_only else absent <= palette
        assert "Filter runs" in palette  # reading stays


async def test_read_only_keys_start_stop_and_answer_nothing(tmp_path: Path) -> None:
    from crewdash.tui.screens.human_input import HumanInputModal
    from crewdash.tui.screens.inbox import InboxScreen
    from crewdash.tui.screens.run_detail import RunDetailScreen

    engine = sample_engine()
    waiting = next(r for r in engine.runs() if r.kickoff_id)
    engine.requests.append(_request(waiting.kickoff_id or ""))
    app = _app(engine, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        main = app.main_screen
        # no form: a note says why
        assert not main.query(InputForm)
        assert "Read-only" in str(main.query_one("#read-only-note").render())
        engine.publish(InboxChanged(engine.requests[0]))
        await pilot.pause()
        app._offer_request()  # a request waits: it does not open by itself
        await pilot.pause()
        assert app.screen is main
        main.runs.focus()
        await pilot.press("n", *"1234", "ctrl+s", "r", "s", "u", "i", "y", "r", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)  # Enter still opens a run
        assert _actions(app) & MUTATING_ACTIONS == set()
        await pilot.press("s", "a", "e", "i", "u", "w", "y", "escape")
        await pilot.pause()
        assert app.screen is main
        await pilot.press("I")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        await pilot.press("enter", "ctrl+s", "y")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        assert not any(isinstance(s, HumanInputModal) for s in app.screen_stack)
    assert engine.kicked == []
    assert engine.answers == []


async def test_read_only_first_run_has_no_add_crew_or_demo(tmp_path: Path) -> None:
    app = _app(FakeEngine(Config(path=None)), tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        buttons = {b.id for b in app.screen.query(Button).results()}
        assert "add" not in buttons and "demo" not in buttons and "quit" in buttons
        await pilot.press("a", "d")
        await pilot.pause()
        assert not app.screen.query_one("#add-crew-form").has_class("-shown")
        assert app.return_code is None  # `d` did not leave for the demo


def test_read_only_help_lists_no_mutating_key() -> None:
    full, read_only = help_markdown(), help_markdown(read_only=True)
    for words in ("Stop the selected run", "Fill the input form", "Add a deployed crew"):
        assert words in full and words not in read_only
    assert "## Input form" in full and "## Input form" not in read_only
    assert "Move to the runs table" in read_only
