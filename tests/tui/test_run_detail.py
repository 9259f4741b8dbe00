"""The run detail screen against a fake engine: live updates, copy, save, stop, run again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from rich.console import Console
from screens_fixtures import KICKOFF, FakeEngine, ScreenApp, completed_run
from textual.widgets import Input, Markdown, Static, TabbedContent, Tree

from crewdash.aop.models import RunResult, RunState
from crewdash.core.models import RunChanged
from crewdash.tui.screens.run_detail import RunDetailScreen, parse_json_output
from crewdash.tui.widgets.timeline import Timeline, bar


def _app(engine: FakeEngine) -> ScreenApp:
    return ScreenApp(lambda: RunDetailScreen(engine, "run-1"))


def _text(widget: Static) -> str:
    return str(widget.render())


def test_bar_scales_with_eighths() -> None:
    assert bar(1.0, 10) == "█" * 10
    assert bar(0.5, 10) == "█" * 5
    assert bar(0.01, 10) == "▏"  # a short task still shows
    assert bar(0.0, 10) == ""
    assert len(bar(0.33, 12)) == 4


def test_json_output_detection() -> None:
    assert parse_json_output('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_json_output("[1]") == [1]
    assert parse_json_output('"just a string"') is None
    assert parse_json_output("# Title\n{not json}") is None


async def test_running_run_updates_live_when_its_events_arrive() -> None:
    running = completed_run(
        state=RunState.RUNNING,
        raw_state="RUNNING",
        result=None,
        finished_at=None,
        completed_tasks=1,
        current_task="analyse",
    )
    engine = FakeEngine([running])
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        title = screen.query_one("#detail-title", Static)
        assert "▶ running" in _text(title) and "now: analyse" in _text(title)
        assert "running for 5m 00s" in _text(screen.query_one("#detail-times", Static))
        assert not screen.query(Markdown)
        assert screen.check_action("stop_run", ()) is True

        # An event for another run changes nothing; one for this run re-renders the screen.
        engine.publish(
            RunChanged(dataclasses.replace(running, local_id="other", state=RunState.ERROR))
        )
        await pilot.pause()
        assert "▶ running" in _text(title)
        done = completed_run()
        engine.runs_by_id["run-1"] = done
        engine.publish(RunChanged(done))
        await pilot.pause()
        assert "✓ completed" in _text(title)
        assert "took 2m 08s" in _text(screen.query_one("#detail-times", Static))
        assert screen.query_one("#output-markdown", Markdown)
        assert screen.query_one(Timeline).tasks == done.result.tasks  # type: ignore[union-attr]
        assert screen.check_action("stop_run", ()) is None  # finished: Stop greys out

        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_completed_run_shows_all_tasks_done_like_the_runs_table() -> None:
    # the server's last progress report said 2 of 3; a completed run has done all of them
    engine = FakeEngine([completed_run(completed_tasks=2, total_tasks=3)])
    app = _app(engine)
    async with app.run_test(size=(120, 36)):
        title = _text(app.screen.query_one("#detail-title", Static))
        assert "3/3 tasks" in title and "2/3" not in title


async def test_json_output_is_a_tree_and_error_tab_opens_first() -> None:
    engine = FakeEngine([completed_run('{"title": "x", "items": [1, 2]}')])
    app = _app(engine)
    async with app.run_test(size=(120, 36)):
        tree = app.screen.query_one("#output-tree", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels == ['title = "x"', "items [] 2 items"]
        assert app.screen.query_one(TabbedContent).active == "tab-output"

    failed = completed_run(
        state=RunState.ERROR, raw_state="FAILED", result=None, error="boom\n  at line 3"
    )
    app = _app(FakeEngine([failed]))
    async with app.run_test(size=(120, 36)):
        screen = app.screen
        assert screen.query_one(TabbedContent).active == "tab-error"
        assert _text(screen.query_one("#error-text", Static)) == "boom\n  at line 3"


async def test_copy_copies_what_the_tab_shows() -> None:
    record = completed_run()
    app = _app(FakeEngine([record]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("y")
        assert app.clipboard_text == record.result.output  # type: ignore[union-attr]
        app.screen.query_one(TabbedContent).active = "tab-inputs"
        await pilot.press("y")
        assert json.loads(app.clipboard_text or "") == record.inputs


async def test_save_writes_the_output_or_the_whole_run(tmp_path: Path) -> None:
    record = completed_run()
    app = _app(FakeEngine([record]))
    async with app.run_test(size=(120, 36)) as pilot:
        for name in ("out.md", "run.json"):
            await pilot.press("w")
            await pilot.pause()
            path_input = app.screen.query_one("#save-path", Input)
            assert path_input.value == "research-6f1c2a9e.md"
            path_input.value = str(tmp_path / name)
            await pilot.press("enter")
            await pilot.pause()
    assert (tmp_path / "out.md").read_text() == record.result.output  # type: ignore[union-attr]
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["kickoff_id"] == record.kickoff_id
    assert [h["raw_state"] for h in saved["history"]] == [
        "PENDING",
        "RUNNING",
        "RUNNING",
        "SUCCESS",
    ]
    assert sorted(_names(tmp_path)) == ["out.md", "run.json"]  # no temp file left behind


def _names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


async def test_its_keys_ask_the_app_for_this_run() -> None:
    """s, g and i name this run (the app asks before stopping; see test_run_actions)."""
    waiting = completed_run(
        state=RunState.AWAITING_INPUT, raw_state="PENDING_HUMAN_INPUT", result=None
    )
    engine = FakeEngine([waiting])
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("s", "g", "i"):
            await pilot.press(key)
        await pilot.pause()
        asked = [(type(m).__name__, getattr(m, "local_id", None)) for m in app.asked]
        assert asked == [("StopRun", "run-1"), ("PollRun", "run-1"), ("AnswerRequest", "run-1")]


async def test_run_again_asks_the_app_and_closes() -> None:
    record = completed_run()
    for key, kind in (("a", "StartRun"), ("e", "EditRun")):
        app = _app(FakeEngine([record]))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press(key)
            await pilot.pause()
            assert [type(m).__name__ for m in app.asked] == [kind]
            message = app.asked[0]
            assert (message.crew, message.inputs) == ("research", record.inputs)  # type: ignore[attr-defined]
        assert app.results == [None]


async def test_tasks_tab_lists_each_task_with_agent_and_time() -> None:
    record = completed_run(result=RunResult("done", completed_run().result.tasks))  # type: ignore[union-attr]
    app = _app(FakeEngine([record]))
    async with app.run_test(size=(120, 36)):
        titles = [c.title for c in app.screen.query("#task-list Collapsible")]  # type: ignore[attr-defined]
        assert titles[0] == "1. research  ·  Senior Researcher  ·  42.5s"
        assert len(titles) == 4


async def test_history_lists_the_human_decisions_among_the_state_changes() -> None:
    """Defect 11: the History tab omitted human decisions."""
    from crewdash.core.models import AnswerOutcome, DecisionRecord

    record = completed_run()
    engine = FakeEngine([record])
    start = record.created_at
    engine.decided = [
        DecisionRecord(
            1,
            start + 50,
            "k:write",
            KICKOFF,
            "write",
            1,
            "ana",
            "shorter, please",
            False,
            None,
            "resume",
            AnswerOutcome.ACCEPTED,
            "retrying: re-running the task",
            start + 51,
        ),
        DecisionRecord(
            2,
            start + 90,
            "k:write#2",
            KICKOFF,
            "write",
            2,
            "ana",
            "",
            True,
            None,
            "resume",
            AnswerOutcome.ACCEPTED,
            "resumed",
            start + 91,
            origin="browser",  # given on a page of `crewdash serve --allow-actions`
        ),
    ]
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        console = Console(width=120, color_system=None)
        with console.capture() as captured:
            console.print(app.screen.query_one("#history-table", Static).content)
        lines = captured.get().splitlines()
        changes = next(i for i, line in enumerate(lines) if "changes asked" in line)
        approved = next(i for i, line in enumerate(lines) if "◆ approved" in line)
        analyse = next(i for i, line in enumerate(lines) if "analyse" in line)
        assert analyse < changes < approved  # in time order among the state changes
        assert "ana" in lines[changes] and "'shorter, please'" in lines[changes]
        assert "attempt 2" in lines[approved]
        assert "via resume from browser" in lines[approved]
        assert "from" not in lines[changes]  # given in a terminal: its route alone


async def test_the_clock_tick_updates_only_the_head_line_whose_words_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 17: the 1-s tick updated (and laid out) the title, times and note every second."""
    running = completed_run(state=RunState.RUNNING, raw_state="RUNNING", result=None)
    running = dataclasses.replace(running, finished_at=None)
    app = _app(FakeEngine([running]))
    updates: list[tuple[str | None, bool]] = []
    original = Static.update

    def counting(self: Static, content: object = "", *, layout: bool = True) -> None:
        updates.append((self.id, layout))
        original(self, content, layout=layout)  # type: ignore[arg-type]

    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        await pilot.pause()
        monkeypatch.setattr(Static, "update", counting)
        screen._tick()  # the same second: nothing to show
        assert updates == []
        start = app.now()  # type: ignore[attr-defined]
        app.now = lambda: start + 1  # type: ignore[method-assign]
        screen._tick()
        assert updates == [("detail-times", False)]  # "5m 01s": same length, no layout
        assert "running for 5m 01s" in _text(screen.query_one("#detail-times", Static))
