"""The shell on a fake engine: crews, runs table (cells, filter, sort, memory), status bar,
human-input arrival, notifications, help, keymap, signals, first run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Button, Input

from crewdash.aop.models import RunState
from crewdash.core.config.model import Config, UIConfig
from crewdash.core.models import (
    CrewHealth,
    CrewHealthChanged,
    HumanRequest,
    InboxChanged,
    KickoffPhase,
    RequestSource,
    RunChanged,
    RunRecord,
)
from crewdash.tui.app import CrewdashApp
from crewdash.tui.notify import Notifier, desktop_escape
from crewdash.tui.widgets.input_form import InputForm
from crewdash.tui.widgets.runs_table import RunsTable
from tests.tui.fake_engine import FakeEngine, crew

T0 = 1_700_000_000.0


def make_run(i: int, crew_name: str = "research", **changes: object) -> RunRecord:
    run = RunRecord(
        local_id=f"l{i}",
        crew=crew_name,
        inputs={"topic": f"t{i}"},
        request_id=f"r{i}",
        created_at=T0 - 60 * i,
        phase=KickoffPhase.ACCEPTED,
        kickoff_id=f"{i:04d}abcd-0000",
        state=RunState.RUNNING,
        raw_state="running",
        current_task="research_task",
        completed_tasks=1,
        total_tasks=3,
    )
    return replace(run, **changes)  # type: ignore[arg-type]


def make_engine(runs: list[RunRecord] | None = None, ui: UIConfig | None = None) -> FakeEngine:
    config = Config(
        path=None,
        crews={"research": crew("research"), "writer": crew("writer")},
        ui=ui or UIConfig(),
    )
    return FakeEngine(config, runs)


def make_app(engine: FakeEngine, tmp_path: Path | None = None) -> CrewdashApp:
    return CrewdashApp(engine, now=lambda: T0, data_dir=tmp_path)


async def settle(pilot: object, app: CrewdashApp) -> None:
    """Wait until the engine started and the table painted what it knows."""
    await pilot.pause()  # type: ignore[attr-defined]
    await asyncio.wait_for(app.dashboard_ready.wait(), 10)
    app.main_screen.runs.flush()
    await pilot.pause()  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def dashboard(
    tmp_path: Path, runs: list[RunRecord] | None = None
) -> AsyncIterator[tuple[Any, CrewdashApp]]:
    """(pilot, app): a settled dashboard at 120x36 on a fake engine holding `runs`."""
    app = make_app(make_engine(runs), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        yield pilot, app


async def form_ready(pilot: object, app: CrewdashApp) -> InputForm:
    """Wait until the form, loaded in a worker, is mounted with its buttons."""
    for _ in range(100):
        forms = app.main_screen.query(InputForm)
        if forms and forms.first().is_mounted and forms.first().query(Button):
            return forms.first()
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("the form did not load")


def visible_ids(table: RunsTable) -> list[str]:
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


async def test_runs_of_all_crews_newest_first_with_state_words(tmp_path: Path) -> None:
    runs = [make_run(1), make_run(2, "writer", state=RunState.COMPLETED), make_run(3)]
    app = make_app(make_engine(runs), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        assert visible_ids(table) == ["l1", "l2", "l3"]
        assert table.get_cell("l2", "state").plain == "✓ completed"
        assert table.get_cell("l1", "progress").plain.endswith("1/3")
        assert table.get_cell("l1", "crew").plain == "research"


async def test_an_update_touches_only_the_cells_that_changed(tmp_path: Path) -> None:
    engine = make_engine([make_run(1), make_run(2)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        written: list[tuple[str, str]] = []
        original = table.update_cell

        def spy(row: str, column: str, value: object, **kw: object) -> None:
            written.append((str(row), str(column)))
            original(row, column, value, **kw)  # type: ignore[arg-type]

        table.update_cell = spy  # type: ignore[method-assign]
        # a burst of 50 events for one run: coalesced into one flush
        for n in range(50):
            engine.publish(RunChanged(make_run(1, current_task=f"task {n}", completed_tasks=2)))
        await pilot.pause()  # the app hands the 50 events to the screen in one message
        table.flush()
        assert sorted(written) == [("l1", "progress"), ("l1", "task")]
        assert table.get_cell("l1", "task").plain == "task 49"


async def test_filter_any_column_inverted_and_remembered(tmp_path: Path) -> None:
    runs = [make_run(1), make_run(2, "writer", state=RunState.ERROR), make_run(3, "writer")]
    app = make_app(make_engine(runs), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        await pilot.press("r", "slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"writer")
        assert visible_ids(table) == ["l2", "l3"]
        app.focused.value = "!error"  # type: ignore[union-attr]
        await pilot.pause()
        assert visible_ids(table) == ["l1", "l3"]
        await pilot.press("enter")
        assert app.focused is table
        # a run that starts matching appears without a rebuild
        app.engine.publish(RunChanged(make_run(2, "writer", state=RunState.RUNNING)))  # type: ignore[attr-defined]
        await pilot.pause()
        table.flush()
        assert set(visible_ids(table)) == {"l1", "l2", "l3"}
        table.sort_by("crew")
        await pilot.pause()
    saved = json.loads((tmp_path / "ui-state.json").read_text())
    assert saved["runs_view"] == {"filter": "!error", "sort": "crew", "reverse": False}

    app2 = make_app(make_engine(runs), tmp_path)
    async with app2.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app2)
        table = app2.main_screen.runs
        assert table.filter_text == "!error" and table.sort_column == "crew"
        assert app2.main_screen.query_one("#filter", Input).value == "!error"
        await pilot.press("r", "slash", "escape")
        assert len(visible_ids(table)) == 3


async def test_sort_by_elapsed_uses_seconds_not_words(tmp_path: Path) -> None:
    # 2m 00s sorts above 10m 00s as words; as durations it is below
    runs = [make_run(2), make_run(10), make_run(1)]
    app = make_app(make_engine(runs), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.main_screen.runs
        table.sort_by("elapsed")
        assert visible_ids(table) == ["l1", "l2", "l10"]
        table.sort_by("elapsed")  # again: reversed
        assert visible_ids(table) == ["l10", "l2", "l1"]


async def test_crew_pane_counts_and_health_and_status_bar(tmp_path: Path) -> None:
    runs = [
        make_run(1),
        make_run(2, state=RunState.AWAITING_INPUT),
        make_run(3, state=RunState.COMPLETED),
    ]
    engine = make_engine(runs)
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        main = app.main_screen
        main._flush_counts()
        prompt = main.crews.get_option("research").prompt
        assert str(prompt).endswith("▶2 ◆1")
        main.crews.choose("research")
        assert "2 active, 1 waiting" in str(main.crews.border_subtitle)
        engine.publish(
            CrewHealthChanged("writer", CrewHealth.OFFLINE, "connection refused", T0 - 120)
        )
        await pilot.pause()
        assert str(main.crews.get_option("writer").prompt).startswith("○ ")
        assert main.crews.health_text("writer") == "offline"
        status = main.status.render_text().plain
        assert "writer offline 2m ago: connection refused" in status
        engine.publish(CrewHealthChanged("writer", CrewHealth.OK, "", None))
        await pilot.pause()
        assert "offline" not in main.status.render_text().plain


def request(n: int = 1) -> HumanRequest:
    return HumanRequest(
        id=f"k{n}:t",
        crew="research",
        source=RequestSource.STATUS,
        received_at=T0,
        kickoff_id=f"k{n}",
        task_id="t",
        prompt="Approve the draft?",
        output="# Draft",
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def attention_clock(app: CrewdashApp) -> FakeClock:
    """The app's request-attention policy on a clock the test moves."""
    from crewdash.tui.request_attention import RequestAttention

    clock = FakeClock()
    app.attention = RequestAttention(idle_after=2.5, clock=clock)
    return clock


async def test_a_request_never_opens_under_the_operators_typing_then_i_opens_it(
    tmp_path: Path,
) -> None:
    from crewdash.tui.screens.human_input import HumanInputModal

    engine = make_engine([make_run(1)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        clock = attention_clock(app)
        await settle(pilot, app)
        # typing in the form: the modal waits, a toast says press i
        await form_ready(pilot, app)
        await pilot.press("n")
        assert isinstance(app.focused, Input)
        engine.requests.append(request(1))
        engine.publish(InboxChanged(request(1)))
        await pilot.pause()
        clock.now += 60  # even after a long pause in the form: typing is never interrupted
        app._offer_request()
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)
        assert any("Human input needed" in n.title for n in app._notifications)
        assert any("i to answer" in n.message for n in app._notifications)
        assert "inbox 1" in app.main_screen.status.render_text().plain
        await pilot.press("escape")
        app.main_screen.runs.focus()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.id == request(1).id


async def test_a_request_opens_by_itself_only_when_the_operator_is_idle_on_the_dashboard(
    tmp_path: Path,
) -> None:
    """Keys the operator types must never land in a modal that opened under them (defect 4:
    `n`, text and Ctrl+S once went into an approval dialog)."""
    from crewdash.tui.screens.human_input import HumanInputModal

    engine = make_engine([make_run(1)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        clock = attention_clock(app)
        await settle(pilot, app)
        app.main_screen.runs.focus()
        await pilot.press("down")  # the operator is at the keys
        engine.requests.append(request(1))
        engine.publish(InboxChanged(request(1)))
        await pilot.pause()
        app._offer_request()
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)  # they pressed a key just now
        clock.now += 3  # quiet for longer than idle_after
        app._offer_request()
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.id == request(1).id


async def test_a_request_closed_with_esc_never_pops_up_again_by_itself(tmp_path: Path) -> None:
    from crewdash.tui.screens.human_input import HumanInputModal

    engine = make_engine([make_run(1), make_run(2)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        clock = attention_clock(app)
        await settle(pilot, app)
        app.main_screen.runs.focus()
        clock.now += 10
        engine.requests.append(request(1))
        engine.publish(InboxChanged(request(1)))
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)
        # another request arrives later: that one opens, never the one put aside
        clock.now += 10
        engine.requests.append(request(2))
        engine.publish(InboxChanged(request(2)))
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.id == request(2).id
        await pilot.press("escape")
        await pilot.pause()
        clock.now += 600
        app._offer_request()
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)
        assert "inbox 2" in app.main_screen.status.render_text().plain  # still waiting
        await pilot.press("i")  # asking opens them again, oldest first
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.id == request(1).id


async def test_i_on_a_waiting_run_answers_that_run(tmp_path: Path) -> None:
    from crewdash.tui.screens.human_input import HumanInputModal

    waiting = [make_run(i, state=RunState.AWAITING_INPUT) for i in (1, 2)]
    engine = make_engine(waiting)
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        clock = attention_clock(app)
        clock.now = -1e9  # never idle: nothing opens by itself
        await settle(pilot, app)
        for n in (1, 2):
            req = replace(request(n), local_id=f"l{n}", kickoff_id=waiting[n - 1].kickoff_id)
            engine.requests.append(req)
            engine.publish(InboxChanged(req))
        await pilot.pause()
        table = app.main_screen.runs
        table.focus()
        table.move_cursor(row=table.get_row_index("l2"), animate=False)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.local_id == "l2"  # not the oldest (l1's)


async def test_i_in_a_runs_detail_answers_that_run_not_the_oldest_request(
    tmp_path: Path,
) -> None:
    """Defect 3: `i` in a run's detail opened the oldest waiting request of any run."""
    from crewdash.tui.messages import OpenRun
    from crewdash.tui.screens.human_input import HumanInputModal
    from crewdash.tui.screens.run_detail import RunDetailScreen

    waiting = [make_run(i, state=RunState.AWAITING_INPUT) for i in (1, 2)]
    engine = make_engine(waiting)
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        attention_clock(app).now = -1e9  # never idle: nothing opens by itself
        await settle(pilot, app)
        for n in (1, 2):  # l1's request is the oldest
            req = replace(
                request(n),
                local_id=f"l{n}",
                kickoff_id=waiting[n - 1].kickoff_id,
                received_at=T0 - 100 + n,
            )
            engine.requests.append(req)
            engine.publish(InboxChanged(req))
        app.post_message(OpenRun("l2"))
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.local_id == "l2"
        await pilot.press("escape")
        await pilot.pause()
        # a run that waits for nobody says so instead of opening another run's request
        engine.publish(RunChanged(make_run(2, state=RunState.RUNNING)))
        engine.requests = [r for r in engine.requests if r.local_id != "l2"]
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        assert any("not waiting" in n.message for n in app._notifications)


async def test_completion_and_error_toast_bell_and_desktop_notification(tmp_path: Path) -> None:
    engine = make_engine([make_run(1), make_run(2)])
    app = make_app(engine, tmp_path)
    written: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.notifier._write = written.append
        engine.publish(RunChanged(make_run(1, state=RunState.COMPLETED, finished_at=T0)))
        engine.publish(RunChanged(make_run(2, state=RunState.ERROR, error="boom", finished_at=T0)))
        engine.publish(RunChanged(make_run(2, state=RunState.ERROR, error="boom", finished_at=T0)))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("completed" in m for m in messages)
        assert sum("failed: boom" in m for m in messages) == 1  # once, not per event
        assert written.count("\a") == 2
        assert sum(w.startswith("\x1b]") for w in written) == 2


def test_notifier_respects_config_and_picks_the_escape() -> None:
    toasts: list[str] = []
    written: list[str] = []
    notify = Notifier(
        toast=lambda body, title, sev: toasts.append(body),
        write=written.append,
        bell=False,
        desktop=True,
        environ={"TERM_PROGRAM": "iTerm.app"},
    )
    notify("Run failed", "x; y\x07", loud=True)
    assert toasts == ["x; y\x07"]
    assert written == ["\x1b]9;Run failed: x, y \x07"]  # no BEL inside the sequence
    assert desktop_escape("a", "b", {"TERM": "foot"}) == "\x1b]777;notify;a;b\x07"


async def test_help_on_f1_and_question_mark_lists_remapped_keys(tmp_path: Path) -> None:
    from crewdash.tui.screens.help import HelpScreen, help_markdown

    ui = UIConfig(keymap={"stop_run": "x"})
    app = make_app(make_engine([make_run(1)], ui=ui), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        app.main_screen.runs.focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        # the keymap applies: x stops, s no longer does
        app.main_screen.runs.focus()
        await pilot.press("s")
        assert app.screen is app.main_screen
        await pilot.press("x")
        assert type(app.screen).__name__ == "ConfirmModal"
    assert "| `x` | Stop the selected run" in help_markdown({"stop_run": "x"})


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from crewdash.tui.bindings import all_bindings

    groups = [group for _, group in all_bindings()]
    for group in groups:
        ids = [b.id for b in group]
        assert all(ids) and len(ids) == len(set(ids))
    # an id shared by two groups is one verb (remapping it remaps both): the same key
    keys: dict[str, str] = {}
    for group in groups:
        for binding in group:
            assert keys.setdefault(binding.id or "", binding.key) == binding.key, binding.id
    assert all(b.tooltip for group in groups for b in group)


async def test_sigterm_exits_the_app_and_restores_the_terminal(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    # under run_test (headless) the app leaves SIGTERM alone: a hung test must stay killable
    idle = make_app(make_engine([make_run(1)]), tmp_path)
    async with idle.run_test(size=(120, 36)) as pilot:
        await settle(pilot, idle)
        assert signal.getsignal(signal.SIGTERM) == before
    app = make_app(make_engine([make_run(1)]), tmp_path)
    app.install_signal_handlers = True  # as on a real terminal
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.return_code is None
        # without the handler the kill below would end this whole test process
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, before)
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the app's loop: this process lives
        await pilot.pause()
        assert app.return_code == 0  # exit requested: run_test's context then ends the app
    assert app.engine.stopped  # type: ignore[attr-defined]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # removed on unmount


async def test_first_run_offers_demo_and_saves_a_crew(tmp_path: Path) -> None:
    empty = FakeEngine(Config(path=None))
    app = CrewdashApp(empty, now=lambda: T0, config_path=tmp_path / "config.toml")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "FirstRunScreen"
        await pilot.press("a")
        await pilot.press(*"research")
        await pilot.press("tab", *"ftp://x")
        await pilot.press("tab", *"$RESEARCH_TOKEN", "enter")
        assert "url must start with https://" in str(app.screen.query_one("#add-error").render())
        app.screen.query_one("#crew-url", Input).value = "https://research.example.com"
        app.screen.query_one("#crew-token", Input).focus()
        await pilot.press("enter")
    assert app.return_value == "reload"
    text = (tmp_path / "config.toml").read_text()
    assert 'token_env = "RESEARCH_TOKEN"' in text and "https://research.example.com" in text

    app = CrewdashApp(FakeEngine(Config(path=None)), now=lambda: T0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("d")
    assert app.return_value == "demo"


@pytest.mark.parametrize("query", ["Switch crew: writer", "Sort runs by elapsed"])
async def test_command_palette_has_the_apps_verbs(tmp_path: Path, query: str) -> None:
    from textual.command import Command, CommandList, CommandPalette

    app = make_app(make_engine([make_run(1)]), tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*query)
        # The palette gathers hits in a worker and offers no completion signal: wait until
        # its list's highlighted (best) entry is the verb typed, then choose it.
        options = app.screen.query_one(CommandList)
        for _ in range(250):
            top = options.highlighted_option
            if isinstance(top, Command) and top.hit.text == query:
                break
            await pilot.pause()
        else:
            raise AssertionError(f"the palette never offered {query!r}")
        await pilot.press("enter")
        await pilot.pause()
        main = app.main_screen
        if "crew" in query:
            assert main.crews.chosen == "writer"
        else:
            assert main.runs.sort_column == "elapsed"


async def test_a_request_that_arrives_while_answering_opens_once_the_answer_is_sent(
    tmp_path: Path,
) -> None:
    """A re-ask after 'request changes' lands while the modal still shows 'Sent': it must
    open when that modal closes after an answer, but not after the operator closed it unanswered."""
    from crewdash.core.models import AnswerOutcome
    from crewdash.tui.screens.human_input import HumanInputModal

    engine = make_engine([make_run(1)])
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        clock = attention_clock(app)
        clock.now += 10
        await settle(pilot, app)
        app.main_screen.runs.focus()
        engine.requests.append(request(1))
        engine.publish(InboxChanged(request(1)))
        await pilot.pause()
        first = app.screen
        assert isinstance(first, HumanInputModal)
        engine.requests.append(request(2))
        engine.publish(InboxChanged(request(2)))
        await pilot.pause()
        assert app.screen is first  # one modal at a time
        engine.requests.remove(request(1))  # answered: no longer pending
        first.dismiss(AnswerOutcome.ACCEPTED)
        clock.now += 10  # the operator reads the result, then closes: idle again
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal) and app.screen is not first
        assert app.screen.request.id == request(2).id
        # closed without an answer: it stays in the inbox and does not pop up again
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert not isinstance(app.screen, HumanInputModal)


async def test_an_empty_table_says_why_and_the_sort_column_is_marked(tmp_path: Path) -> None:
    async with dashboard(tmp_path, [make_run(1), make_run(2, "writer")]) as (pilot, app):
        main = app.main_screen
        table = main.runs
        main._flush_counts()
        assert not main.query("#runs-empty")  # no words: mounted only when needed
        header = {str(c.key.value): c.label.plain for c in table.columns.values()}
        assert header["started"] == "Start▼" and header["crew"] == "Crew"  # newest first
        await pilot.press("r", "o", "o")  # the next columns: Alert, then Crew, ascending
        header = {str(c.key.value): c.label.plain for c in table.columns.values()}
        assert header["crew"] == "Crew ▲" and header["started"] == "Start"
        await pilot.press("O")
        header = {str(c.key.value): c.label.plain for c in table.columns.values()}
        assert header["crew"] == "Crew ▼"

        await pilot.press("slash", *"no such thing", "enter")
        main._flush_counts()  # what the 0.25-s timer runs
        await pilot.pause()
        note = main.query_one("#runs-empty")
        assert table.row_count == 0 and note.display
        assert "No run matches the filter 'no such thing' (2 hidden)" in str(note.render())
        await pilot.press("escape")
        main._flush_counts()
        await pilot.pause()
        assert table.row_count == 2 and not note.display


async def test_events_after_the_app_left_are_ignored_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 9: Ctrl+Q right after Ctrl+S: the kickoff's answer arrived after the screens
    were gone, and the app's subscriber failed on every event ("event subscriber failed")."""
    from crewdash.core.events import EventBus

    engine = make_engine([make_run(1)])
    app = make_app(engine, tmp_path)
    bus = EventBus()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        bus.subscribe(app._on_engine_event)  # as the real engine's bus holds it
        await pilot.press("ctrl+q")
    with caplog.at_level("DEBUG"):
        bus.publish(RunChanged(make_run(1, state=RunState.COMPLETED, finished_at=T0), make_run(1)))
        bus.publish(InboxChanged(request(1)))
        await asyncio.sleep(0)  # a flush would have been scheduled for the next loop turn
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]


async def test_stop_asks_the_same_question_from_the_table_and_from_the_detail(
    tmp_path: Path,
) -> None:
    """Defect 11: the two stop dialogs were worded differently (stop was built twice)."""
    from crewdash.tui.messages import OpenRun
    from crewdash.tui.screens.confirm import ConfirmModal

    async with dashboard(tmp_path, [make_run(1)]) as (pilot, app):
        questions: list[tuple[str, str]] = []
        app.main_screen.runs.focus()
        await pilot.press("s")
        await pilot.pause()
        for _ in range(2):
            modal = app.screen
            assert isinstance(modal, ConfirmModal)
            questions.append((modal.question, modal.detail))
            await pilot.press("escape")
            await pilot.pause()
            if len(questions) == 1:
                app.post_message(OpenRun("l1"))
                await pilot.pause()
                await pilot.press("s")
                await pilot.pause()
        assert questions[0] == questions[1]
        assert questions[0][0] == "Stop research run 0001abcd?"


async def test_down_held_in_the_crew_list_builds_the_last_crews_form_and_the_app_lives(
    tmp_path: Path,
) -> None:
    """Holding Down in the crew list asks for a form per crew; the newest wish is built, a
    server that never answers holds nothing up. (On a real terminal a cancelled removal once
    ended the app: tests/journeys/test_journey_keys.py::test_crew_list_down_held.)"""
    config = Config(
        path=None, crews={name: crew(name) for name in ("alpha", "beta", "gamma", "delta")}
    )
    engine = FakeEngine(config)
    engine.inputs_gates["beta"] = asyncio.Event()  # a deployment that never answers
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await form_ready(pilot, app)
        await pilot.press("c")
        for _ in range(7):  # a held key: no pause between the presses (the list wraps)
            app.post_message(events.Key("down", None))
        chosen = None
        for _ in range(200):
            await pilot.pause()
            chosen = app.main_screen.crews.chosen
            title = app.main_screen.query(".form-title")
            if (
                title
                and f"of {chosen}" in str(title.first().render())
                and app.main_screen.query(InputForm)
            ):
                break
        else:
            titles = [str(t.render()) for t in app.main_screen.query(".form-title")]
            raise AssertionError(
                f"the chosen crew's form never came: chosen {chosen}, titles {titles},"
                f" asked {engine.asked_inputs}"
            )
        assert chosen == "delta"  # alpha + 7 Downs in a list of 4
        assert app.is_running and app.return_code is None
        assert len(app.main_screen.query(InputForm)) == 1


async def test_home_and_end_move_to_the_first_and_last_run(tmp_path: Path) -> None:
    """DataTable's own Home/End scroll sideways with a row cursor; a runs table goes to the
    newest and the oldest run."""
    async with dashboard(tmp_path, [make_run(i) for i in range(1, 6)]) as (pilot, app):
        table = app.main_screen.runs
        table.focus()
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_an_answer_to_a_pause_that_moved_on_shows_the_new_round_instead(
    tmp_path: Path,
) -> None:
    """Issue 13: an answer is about what the operator saw; when the run waits on other output
    by the time it is sent, nothing is sent and the new round is shown in its place."""
    from crewdash.core.models import AnswerOutcome
    from crewdash.tui.screens.human_input import HumanInputModal

    engine = make_engine([make_run(1)])
    engine.answer_result = AnswerOutcome.SUPERSEDED
    first = request(1)
    second = replace(first, id=f"{first.id}#2", attempt=2, output="# Draft, again")
    engine.replacements[first.id] = second
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        attention_clock(app).now = -1e9  # never idle: nothing opens by itself
        await settle(pilot, app)
        engine.requests.append(first)
        engine.publish(InboxChanged(first))
        await pilot.press("i")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, HumanInputModal) and modal.request.id == first.id
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "not sent" in str(modal.query_one("#hi-result").render())
        engine.requests = [second]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, HumanInputModal)
        assert app.screen.request.id == second.id
    assert [a[0] for a in engine.answers] == [first.id]
